import type { Client } from '@temporalio/client';
import { ensureServer, type ServerHandle } from '../lib/temporal/server.js';
import { connectClient, TASK_QUEUE } from '../lib/temporal/client.js';
import { startWorker } from './worker.js';
import { say } from './output.js';

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
 * Wait for a workflow's result, running an in-process worker meanwhile (unless `useWorker` is false,
 * when a separate `mlgym worker` runs it), with `progress` drawn until it ends; then close the client.
 */
export async function awaitResult<T>(server: ServerHandle, client: Client, finished: Promise<T>, useWorker: boolean, progress: Promise<void>, taskQueue = TASK_QUEUE): Promise<T> {
  let result: T;
  if (useWorker) {
    const worker = await startWorker(server.address, taskQueue);
    result = await worker.runUntil(finished);
  } else {
    say('waiting for a worker (`mlgym worker`) to run it');
    result = await finished;
  }
  await progress;
  await client.connection.close();
  return result;
}
