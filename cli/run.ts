import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelSpecError, resolveAgentSpec } from '../lib/agent/models.js';
import { checkTaskData, loadTask } from '../lib/config/load.js';
import { DataVariant } from '../lib/config/schema.js';
import { hostGpus } from '../lib/sandbox/gpus.js';
import { datasetsDir, taskFile } from '../lib/home.js';
import { newRunId } from '../lib/run/ids.js';
import { DEFAULT_PROTOCOL, isProtocol, PROTOCOLS, protocolOf, type Protocol } from '../lib/run/protocol.js';
import { runStartOptions } from '../lib/run/start.js';
import { INTERACTIVE_PRIORITY } from '../lib/run/priority.js';
import type { RunInput, RunResult } from '../lib/run/types.js';
import { namespace, taskQueueFor } from '../lib/temporal/client.js';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../workflows/messages.js';
import { awaitResult, chooseQueue, connect, printDetached, workflowUrl } from './connect.js';
import { isCliQueue } from '../lib/temporal/pollers.js';
import { EXIT, parseIntFlag, printJson, say, UsageError } from './output.js';
import { listTaskIds } from './tasks.js';

export interface RunOptions {
  model: string;
  budgetUsd: string;
  continueEvery: string;
  seed: string;
  maxSteps: string;
  keep?: boolean;
  data: string;
  gpus?: string;
  /** `--model external`: seconds without a client action before the run pauses, then before it autosubmits. */
  idlePause?: string;
  idleEnd?: string;
  /** `ours` (default) or `mlgym`: validate shows the test score, as in MLGym's paper. */
  protocol?: string;
  hostTimeout?: string;
  worker: boolean;
  /** Start the run and return: print its id, host no worker. */
  detach?: boolean;
  json?: boolean;
}

export function runSummary(result: RunResult) {
  const attempt = (a: RunResult['attempts'][number]) => ({
    step: a.step,
    kind: a.kind,
    metrics: a.metrics ?? null,
    shownMetrics: a.shownMetrics ?? null,
    error: a.error ?? null,
    reusedFrom: a.reusedFrom ?? null,
  });
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
    protocol: protocolOf(result),
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

/** `--data real|fixture`. */
export function dataFlag(value: string): DataVariant {
  const parsed = DataVariant.safeParse(value);
  if (!parsed.success) throw new UsageError(`--data expects "real" or "fixture", got "${value}"`);
  return parsed.data;
}

/** `--protocol ours|mlgym` (run, bench). */
export function protocolFlag(value: string | undefined): Protocol {
  if (value === undefined) return DEFAULT_PROTOCOL;
  if (!isProtocol(value)) throw new UsageError(`--protocol expects ${PROTOCOLS.map((p) => `"${p}"`).join(' or ')}, got "${value}"`);
  return value;
}

/** `--idle-pause` and `--idle-end` (seconds, `--model external` only). */
function idleFlags(opts: RunOptions): Pick<RunInput, 'idlePauseS' | 'idleEndS'> {
  return {
    ...(opts.idlePause === undefined ? {} : { idlePauseS: parseIntFlag('idle-pause', opts.idlePause, 1) }),
    ...(opts.idleEnd === undefined ? {} : { idleEndS: parseIntFlag('idle-end', opts.idleEnd, 1) }),
  };
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

/**
 * The task's YAML: a task id from the task folders, or a path to a YAML (ours or MLGym's, e.g. an MLGym
 * task folder's configs/tasks/<task>.yaml), which the workers then load from that path.
 */
function taskYaml(task: string): { file: string; outside: boolean } {
  if (/\.ya?ml$/.test(task)) {
    if (!existsSync(task)) throw new UsageError(`no task file "${task}"`);
    return { file: resolve(task), outside: true };
  }
  if (!existsSync(taskFile(task))) throw new UsageError(`unknown task "${task}"; known tasks: ${listTaskIds().join(', ')} (or give the path of a task YAML)`);
  return { file: taskFile(task), outside: false };
}

/** `mlgym run <task|task.yaml> --model <spec>`: start a durable agentRun and wait for its result. */
export async function runCommand(taskArg: string, opts: RunOptions): Promise<number> {
  const yaml = taskYaml(taskArg);
  const data = dataFlag(opts.data);
  const protocol = protocolFlag(opts.protocol);
  const task = loadTask(yaml.file, datasetsDir, { data, gpus: opts.gpus === undefined ? undefined : parseIntFlag('gpus', opts.gpus, 0) });
  const taskId = task.id;
  checkTaskData(task);
  const gpus = task.resources.gpus;
  const model = checkedModelSpec(opts.model);
  const seed = parseIntFlag('seed', opts.seed);
  const budgetUsd = Number(opts.budgetUsd);
  if (!Number.isFinite(budgetUsd) || budgetUsd < 0) throw new UsageError(`--budget-usd expects a number of dollars >= 0, got "${opts.budgetUsd}"`);
  const maxSteps = parseIntFlag('max-steps', opts.maxSteps, 1);
  const continueEvery = parseIntFlag('continue-every', opts.continueEvery, 1);
  const idle = idleFlags(opts);
  const hostTimeout = opts.hostTimeout === undefined ? {} : { hostTimeoutS: parseIntFlag('host-timeout', opts.hostTimeout, 1) };

  const { server, client } = await connect({ showUi: true });
  const runId = newRunId(taskId, model, seed);
  const taskQueue = await chooseQueue(client, taskQueueFor(gpus), runId, opts.worker && !opts.detach);
  if (gpus > 0 && isCliQueue(taskQueue) && hostGpus().length < gpus) {
    await client.connection.close();
    throw new UsageError(`${taskId} needs ${gpus} GPU(s) (resources.gpus; --gpus to change it), but MLGYM_GPUS lists ${hostGpus().length} and no worker serves ${taskQueueFor(gpus)}: set MLGYM_GPUS=0,1,… for the in-process worker, or run \`mlgym worker --gpus …\` on a GPU host`);
  }
  const input: RunInput = { runId, taskId, ...(yaml.outside ? { taskFile: yaml.file } : {}), data, gpus, model, seed, maxSteps, keep: opts.keep ?? false, continueEvery, budgetUsd, ...idle, ...hostTimeout, ...(protocol === DEFAULT_PROTOCOL ? {} : { protocol }) };
  const handle = await client.workflow.start('agentRun', { ...runStartOptions(input, taskQueue), priority: INTERACTIVE_PRIORITY });
  say(`started ${runId}${protocol === 'mlgym' ? " under MLGym's protocol: validate shows the agent the test score" : ''}`);
  if (model === 'external') say(`  waiting for a Gym client to attach("${runId}") and send its actions (docs/gym.md)`);
  const url = workflowUrl(server, namespace(), runId);
  if (url) say(`  ${url}`);
  if (opts.detach) {
    await client.connection.close();
    printDetached(opts, { runId, workflowId: runId, taskQueue, uiUrl: url ?? null });
    return EXIT.ok;
  }

  const finished = handle.result() as Promise<RunResult>;
  const result = await awaitResult(server, client, finished, taskQueue, showProgress(handle, finished));

  const summary = runSummary(result);
  if (opts.json) printJson({ ...summary, uiUrl: url ?? null });
  else {
    const primary = result.submission?.metrics ?? result.bestAttempt?.metrics;
    say(`${result.exitStatus}: ${result.task} with ${result.model} after ${result.steps} steps, cost $${result.costUsd.toFixed(4)}`);
    say(`  submitted score: ${primary ? JSON.stringify(result.submission?.metrics ?? null) : 'none'}; best attempt: ${JSON.stringify(result.bestAttempt?.metrics ?? null)}`);
  }
  return result.status === 'completed' ? EXIT.ok : EXIT.runFailed;
}
