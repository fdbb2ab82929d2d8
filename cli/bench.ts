import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { checkSpec, loadSuite } from '../lib/bench/suite.js';
import type { BenchmarkResult, BenchSpec } from '../lib/bench/types.js';
import { ID_EXPECTED, isId, newBenchId } from '../lib/run/ids.js';
import { namespace, TASK_QUEUE } from '../lib/temporal/client.js';
import { sayAupVariants } from './aup.js';
import { showBenchProgress } from './benchProgress.js';
import { awaitResult, chooseQueue, connect, printDetached, workflowUrl } from './connect.js';
import { EXIT, parseIntFlag, printJson, say, UsageError } from './output.js';
import { DEFAULT_PROTOCOL, protocolOf } from '../lib/run/protocol.js';
import { dataFlag, protocolFlag } from './run.js';

export interface BenchOptions {
  tasks?: string;
  models?: string;
  seeds?: string;
  concurrency?: string;
  maxSteps?: string;
  budgetUsd?: string;
  totalBudgetUsd?: string;
  data?: string;
  protocol?: string;
  hostTimeout?: string;
  benchId?: string;
  worker: boolean;
  /** Start the benchmark and return: print its id, host no worker. */
  detach?: boolean;
  json?: boolean;
}

const SPEC_FLAGS = ['tasks', 'models', 'seeds', 'concurrency', 'maxSteps', 'budgetUsd', 'totalBudgetUsd', 'data', 'protocol', 'hostTimeout'] as const;

/** The spec the flags describe: `--tasks a,b --models x,y --seeds N …`. */
export function specFromFlags(opts: BenchOptions): BenchSpec {
  const list = (flag: string, value: string | undefined) => {
    const items = [...new Set((value ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
    if (!items.length) throw new UsageError(`--${flag} expects a comma-separated list (or give a suite file: mlgym bench <suite.yaml>)`);
    return items;
  };
  const dollars = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const usd = Number(value);
    if (!(usd >= 0)) throw new UsageError(`--${flag} expects a number >= 0, got "${value}"`);
    return usd;
  };
  const budgetUsd = dollars('budget-usd', opts.budgetUsd);
  const totalBudgetUsd = dollars('total-budget-usd', opts.totalBudgetUsd);
  const protocol = protocolFlag(opts.protocol);
  const flags: BenchSpec = {
    tasks: list('tasks', opts.tasks),
    models: list('models', opts.models),
    seeds: parseIntFlag('seeds', opts.seeds ?? '1', 1),
    concurrency: parseIntFlag('concurrency', opts.concurrency ?? '4', 1),
    maxSteps: parseIntFlag('max-steps', opts.maxSteps ?? '50', 1),
    budgetUsd,
    totalBudgetUsd,
    noise: {},
    data: dataFlag(opts.data ?? 'real'),
    ...(opts.hostTimeout === undefined ? {} : { hostTimeoutS: parseIntFlag('host-timeout', opts.hostTimeout, 1) }),
    ...(protocol === DEFAULT_PROTOCOL ? {} : { protocol }),
  };
  const { spec, problems } = checkSpec(flags, process.cwd());
  if (problems.length) throw new UsageError(problems.map((p) => `--${p.path.split('[')[0]}: ${p.message}`).join('\n'));
  return spec;
}

/**
 * `mlgym bench <suite.yaml>` or `mlgym bench --tasks … --models … --seeds N`: run a benchmark workflow
 * and wait for its result. Under an existing `--bench-id` finished runs are reused, not run again.
 */
export async function benchCommand(suiteFile: string | undefined, opts: BenchOptions): Promise<number> {
  if (suiteFile && SPEC_FLAGS.some((f) => opts[f] !== undefined)) throw new UsageError('a suite file sets tasks, models, seeds, concurrency, max steps, budget, data, protocol and host timeout: drop those flags');
  const spec = suiteFile ? loadSuite(suiteFile) : specFromFlags(opts);
  if (opts.benchId !== undefined && !isId(opts.benchId)) throw new UsageError(`--bench-id expects ${ID_EXPECTED}, got "${opts.benchId}"`);
  const benchId = opts.benchId ?? newBenchId(spec.suite);

  const { server, client } = await connect({ showUi: true });
  const { handle, taskQueue } = await startOrAttach(client, benchId, spec, await chooseQueue(client, TASK_QUEUE, benchId, opts.worker && !opts.detach));
  const url = workflowUrl(server, namespace(), benchId);
  if (url) say(`  ${url}`);
  if (opts.detach) {
    await client.connection.close();
    printDetached(opts, { benchId, workflowId: benchId, taskQueue, uiUrl: url ?? null });
    return EXIT.ok;
  }

  const finished = handle.result() as Promise<BenchmarkResult>;
  const progress = showBenchProgress(client, benchId, spec.tasks.length * spec.models.length * spec.seeds, finished);
  const result = await awaitResult(server, client, finished, taskQueue, progress);

  if (opts.json) printJson({ ...result, uiUrl: url ?? null });
  else benchReport(result);
  return benchFinished(result) ? EXIT.ok : EXIT.runFailed;
}

/** Start the benchmark on `taskQueue`; one already running under this id is waited for instead, on its own queue. */
async function startOrAttach(client: Client, benchId: string, spec: BenchSpec, taskQueue: string): Promise<{ handle: WorkflowHandle; taskQueue: string }> {
  try {
    const handle = await client.workflow.start('benchmark', {
      taskQueue,
      workflowId: benchId,
      args: [spec],
      staticSummary: `${spec.suite ? `suite ${spec.suite}: ` : ''}${spec.tasks.length * spec.models.length * spec.seeds} run(s), ${spec.concurrency} at once${spec.protocol === 'mlgym' ? ", MLGym's protocol" : ''}`,
    });
    say(`started benchmark ${benchId}: ${spec.tasks.join(', ')} × ${spec.models.join(', ')} × ${spec.seeds} seed(s), protocol ${protocolOf(spec)}`);
    return { handle, taskQueue };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    say(`benchmark ${benchId} is already running: waiting for it`);
    const handle = client.workflow.getHandle(benchId);
    return { handle, taskQueue: (await handle.describe()).taskQueue };
  }
}

/** Every run completed and no regression: `mlgym bench` (and `watch`) exit 0. */
export function benchFinished(result: BenchmarkResult): boolean {
  return result.runs.every((r) => r.status === 'completed') && result.regressions.length === 0;
}

export function benchReport(result: BenchmarkResult): void {
  const score = (v: number | null) => (v === null ? '-' : String(v));
  for (const r of result.runs) {
    say(`${r.runId}  ${r.status} (${r.exitStatus})  submission ${score(r.submission)}  best attempt ${score(r.bestAttempt)}${r.reused ? '  [reused]' : ''}${r.error ? `  ${r.error}` : ''}`);
  }
  sayAupVariants(result.aup);
  if (result.suite) say(result.previousBenchId ? `compared with ${result.previousBenchId}: ${result.regressions.length} regression(s)` : `first benchmark of suite ${result.suite}: nothing to compare with`);
  for (const g of result.regressions) say(`  REGRESSION ${g.task} × ${g.model}: ${g.metric} ${score(g.current)} vs ${g.previous} before (${g.direction}, noise band ${g.band})`);
}
