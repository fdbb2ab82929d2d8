import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelSpecError, resolveAgentSpec } from '../agent/models.js';
import { loadTask } from '../config/load.js';
import { datasetsDir, taskFile } from '../home.js';
import { newRunId } from '../run/ids.js';
import type { RunInput, RunResult } from '../run/types.js';
import { namespace, TASK_QUEUE } from '../temporal/client.js';
import { MlgymModel, MlgymStatus, MlgymTask } from '../temporal/searchAttributes.js';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../workflows/messages.js';
import { awaitResult, connect, workflowUrl } from './connect.js';
import { EXIT, parseIntFlag, printJson, say, UsageError } from './output.js';
import { listTaskIds } from './tasks.js';

export interface RunOptions {
  model: string;
  budgetUsd: string;
  continueEvery: string;
  seed: string;
  maxSteps: string;
  keep?: boolean;
  worker: boolean;
  json?: boolean;
}

export function runSummary(result: RunResult) {
  const attempt = (a: RunResult['attempts'][number]) => ({ step: a.step, kind: a.kind, metrics: a.metrics ?? null, shownMetrics: a.shownMetrics ?? null, error: a.error ?? null });
  return {
    runId: result.runId,
    workflowId: result.runId,
    task: result.task,
    model: result.model,
    status: result.status,
    exitStatus: result.exitStatus,
    steps: result.steps,
    costUsd: result.costUsd,
    attempts: result.attempts.map(attempt),
    bestAttempt: result.bestAttempt && attempt(result.bestAttempt),
    submission: result.submission && attempt(result.submission),
  };
}

/** The agent spec as the worker will see it (a replay file made absolute); bad specs are exit 2. */
export function checkedModelSpec(spec: string): string {
  try {
    const agent = resolveAgentSpec(spec);
    return agent.kind === 'replay' ? `replay:${resolve(agent.file)}` : spec;
  } catch (err) {
    if (err instanceof ModelSpecError) throw new UsageError(err.message);
    throw err;
  }
}

/** Print the run's step, cost and best score on stderr whenever they change, until it finishes. */
async function showProgress(handle: WorkflowHandle, finished: Promise<unknown>): Promise<void> {
  let done = false;
  void finished.finally(() => (done = true)).catch(() => undefined);
  let last = '';
  while (!done) {
    await Promise.race([finished.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    if (done) break;
    const s = await handle.query(statusQuery).catch(() => undefined);
    if (!s) continue;
    const line = s.status === 'provisioning' ? 'provisioning the container…' : `step ${s.step}/${s.maxSteps} · $${s.costUsd.toFixed(4)} · best ${s.primaryMetric} ${s.bestScore ?? '–'} · ${s.status} · ${s.lastAction.slice(0, 60)}`;
    if (line !== last) say(line);
    last = line;
  }
}

/** `mlgym run <task> --model <spec>`: start a durable agentRun and wait for its result. */
export async function runCommand(taskId: string, opts: RunOptions): Promise<number> {
  if (!existsSync(taskFile(taskId))) throw new UsageError(`unknown task "${taskId}"; known tasks: ${listTaskIds().join(', ')}`);
  loadTask(taskFile(taskId), datasetsDir);
  const model = checkedModelSpec(opts.model);
  const seed = parseIntFlag('seed', opts.seed);
  const budgetUsd = Number(opts.budgetUsd);
  if (!Number.isFinite(budgetUsd) || budgetUsd < 0) throw new UsageError(`--budget-usd expects a number of dollars >= 0, got "${opts.budgetUsd}"`);
  const maxSteps = parseIntFlag('max-steps', opts.maxSteps, 1);
  const continueEvery = parseIntFlag('continue-every', opts.continueEvery, 1);

  const { server, client } = await connect({ showUi: true });
  const runId = newRunId(taskId, model, seed);
  const input: RunInput = { runId, taskId, model, seed, maxSteps, keep: opts.keep ?? false, continueEvery, budgetUsd };
  const handle = await client.workflow.start('agentRun', {
    taskQueue: TASK_QUEUE,
    workflowId: runId,
    args: [input],
    typedSearchAttributes: [
      { key: MlgymTask, value: taskId },
      { key: MlgymModel, value: model },
      { key: MlgymStatus, value: 'starting' },
    ],
    staticSummary: `${taskId} · ${model} · seed ${seed}`,
  });
  say(`started ${runId}`);
  const url = workflowUrl(server, namespace(), runId);
  if (url) say(`  ${url}`);

  const finished = handle.result() as Promise<RunResult>;
  const result = await awaitResult(server, client, finished, opts.worker, showProgress(handle, finished));

  const summary = runSummary(result);
  if (opts.json) printJson({ ...summary, uiUrl: url ?? null });
  else {
    const primary = result.submission?.metrics ?? result.bestAttempt?.metrics;
    say(`${result.exitStatus}: ${result.task} with ${result.model} after ${result.steps} steps, cost $${result.costUsd.toFixed(4)}`);
    say(`  submitted score: ${primary ? JSON.stringify(result.submission?.metrics ?? null) : 'none'}; best attempt: ${JSON.stringify(result.bestAttempt?.metrics ?? null)}`);
  }
  return result.status === 'completed' ? EXIT.ok : EXIT.runFailed;
}
