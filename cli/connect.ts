import type { Client } from '@temporalio/client';
import { ensureServer, type ServerHandle } from '../lib/temporal/server.js';
import { connectClient } from '../lib/temporal/client.js';
import { cliQueue, isCliQueue, queueHasWorker } from '../lib/temporal/pollers.js';
import { startWorker } from './worker.js';
import { printJson, say } from './output.js';

/** Start or reuse the embedded dev server (unless TEMPORAL_ADDRESS is set) and connect a client. */
export async function connect(opts: { showUi?: boolean } = {}): Promise<{ server: ServerHandle; client: Client }> {
  const server = await ensureServer();
  if (server.started) say(`started the Temporal dev server on ${server.address}`);
  if (server.uiUrl && (opts.showUi || server.started)) say(`Temporal Web UI: ${server.uiUrl}`);
  return { server, client: await connectClient(server.address) };
}

export function workflowUrl(server: ServerHandle, namespace: string, workflowId: string): string | undefined {
  return server.uiUrl ? `${server.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}` : undefined;
}

/**
 * The queue a run or benchmark the CLI starts goes to: the shared queue when a worker serves it (the CLI then
 * hosts none: its work runs with the workers' environment, not this process's, and outlives this process);
 * else, when this process may host a worker (`hostWorker`), a queue of its own (cliQueue) that only this
 * process's worker serves, so it never runs other runs' work; else the shared queue, to wait for `mlgym worker`.
 */
export async function chooseQueue(client: Client, sharedQueue: string, id: string, hostWorker: boolean): Promise<string> {
  if (await queueHasWorker(client, sharedQueue)) {
    if (hostWorker) say(`a worker serves ${sharedQueue}: it runs this (no worker in this process)`);
    return sharedQueue;
  }
  if (hostWorker) return cliQueue(sharedQueue, id);
  say(`no worker polls ${sharedQueue}: it waits until \`mlgym worker\` runs somewhere`);
  return sharedQueue;
}

/**
 * Wait for a workflow's result with `progress` drawn until it ends, then close the client. A workflow on a CLI
 * queue (chooseQueue) gets a worker of this process on that queue meanwhile; one on a shared queue is left to
 * the workers there.
 */
export async function awaitResult<T>(server: ServerHandle, client: Client, finished: Promise<T>, taskQueue: string, progress: Promise<void>): Promise<T> {
  let result: T;
  if (isCliQueue(taskQueue)) {
    const worker = await startWorker(server.address, taskQueue);
    result = await worker.runUntil(finished);
  } else {
    say(`waiting for a worker (\`mlgym worker\`) on ${taskQueue} to run it`);
    result = await finished;
  }
  await progress;
  await client.connection.close();
  return result;
}

/** `--detach`: the id on stdout (the whole start as JSON with --json), for scripts to pass to `mlgym watch|status`. */
export function printDetached(opts: { json?: boolean }, started: { runId?: string; benchId?: string; workflowId: string; taskQueue: string; uiUrl: string | null }): void {
  if (opts.json) printJson({ ...started, detached: true });
  else process.stdout.write(`${started.workflowId}\n`);
  say(`detached: follow it with \`mlgym watch ${started.workflowId}\``);
}
