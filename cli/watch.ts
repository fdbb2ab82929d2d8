import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { BenchmarkResult } from '../lib/bench/types.js';
import type { RunResult, RunStatus } from '../lib/run/types.js';
import { isCliQueue } from '../lib/temporal/pollers.js';
import { statusQuery } from '../workflows/messages.js';
import { benchFinished, benchReport } from './bench.js';
import { connect } from './connect.js';
import { EXIT, printJson, say, UsageError } from './output.js';
import { runSummary } from './run.js';
import { startWorker } from './worker.js';

export interface WatchOptions {
  interval: string;
  json?: boolean;
}

/**
 * `mlgym watch <runId|benchId>`: attach to a run or benchmark, started detached or by another CLI, print its
 * progress on stderr until it ends, then its result (the JSON document with --json); the exit code is the one
 * `mlgym run|bench` would have given. One on the queue of the CLI that started it (which may be gone) is
 * served by a worker of this process too while it is watched.
 */
export async function watchCommand(id: string, opts: WatchOptions): Promise<number> {
  const intervalS = Number(opts.interval);
  if (!(intervalS >= 0.2)) throw new UsageError(`--interval expects seconds >= 0.2, got "${opts.interval}"`);
  const { server, client } = await connect();
  try {
    const handle = client.workflow.getHandle(id);
    const description = await handle.describe().catch((err) => {
      throw err instanceof WorkflowNotFoundError ? new UsageError(`no run or benchmark "${id}" on this Temporal server`) : err;
    });
    const kind = description.type;
    if (kind !== 'agentRun' && kind !== 'benchmark') throw new UsageError(`"${id}" is a ${kind} workflow, neither a run nor a benchmark`);
    const finished = handle.result();
    let done = false;
    void finished.finally(() => (done = true)).catch(() => undefined);
    const progress = kind === 'agentRun' ? followRun(handle, () => done, intervalS * 1000) : followBench(client, id, () => done, intervalS * 1000);

    // A CLI queue carries this one workflow's work only: serving it too is harmless while its CLI lives, and
    // takes the run over when it is gone (the server remembers a dead poller for a while, so asking is no use).
    if (description.status.name === 'RUNNING' && isCliQueue(description.taskQueue)) {
      say(`serving ${description.taskQueue}, the queue of the CLI that started it, while watching`);
      await (await startWorker(server.address, description.taskQueue)).runUntil(finished);
    }
    const result = await finished;
    await progress;
    return kind === 'agentRun' ? finishRun(result as RunResult, opts) : finishBench(result as BenchmarkResult, opts);
  } finally {
    await client.connection.close();
  }
}

async function followRun(handle: WorkflowHandle, done: () => boolean, intervalMs: number): Promise<void> {
  let last = '';
  while (!done()) {
    const s = await handle.query(statusQuery).catch(() => undefined);
    const line = s ? statusLine(s) : '';
    if (line && line !== last) say(line);
    last = line || last;
    await sleepUnless(done, intervalMs);
  }
}

export function statusLine(s: RunStatus): string {
  return `${s.runId}: ${s.status}, step ${s.step}/${s.maxSteps}, $${s.costUsd.toFixed(4)} of $${s.budgetUsd.toFixed(2)}, best ${s.primaryMetric} ${s.bestScore ?? '–'}, last action: ${s.lastAction || '–'}`;
}

async function followBench(client: Client, benchId: string, done: () => boolean, intervalMs: number): Promise<void> {
  const runs = `WorkflowType = 'agentRun' AND MlgymBenchId = '${benchId}' AND ExecutionStatus != 'ContinuedAsNew'`;
  let last = '';
  while (!done()) {
    const counts = await Promise.all([client.workflow.count(runs), client.workflow.count(`${runs} AND ExecutionStatus != 'Running'`)]).catch(() => undefined);
    const line = counts ? `${benchId}: ${counts[1].count} of ${counts[0].count} started run(s) finished` : '';
    if (line && line !== last) say(line);
    last = line || last;
    await sleepUnless(done, intervalMs);
  }
}

async function sleepUnless(done: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
}

function finishRun(result: RunResult, opts: WatchOptions): number {
  if (opts.json) printJson(runSummary(result));
  else say(`${result.exitStatus}: ${result.task} with ${result.model} after ${result.steps} steps, cost $${result.costUsd.toFixed(4)}; best attempt ${JSON.stringify(result.bestAttempt?.metrics ?? null)}`);
  return result.status === 'completed' ? EXIT.ok : EXIT.runFailed;
}

function finishBench(result: BenchmarkResult, opts: WatchOptions): number {
  if (opts.json) printJson(result);
  else benchReport(result);
  return benchFinished(result) ? EXIT.ok : EXIT.runFailed;
}
