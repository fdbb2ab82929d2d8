import { continueAsNew, executeChild, isCancellation, patched, proxyActivities, rootCause, setWorkflowOptions, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { benchJobs, benchRun, benchRunId, failedRun } from '../lib/bench/jobs.js';
import { BudgetPool } from '../lib/bench/budget.js';
import { mapLimited } from '../lib/bench/limit.js';
import type { BenchJob, BenchmarkResult, BenchProgress, BenchRun, BenchScores, BenchSpec, Comparison } from '../lib/bench/types.js';
import { benchmarkRunPriority } from '../lib/run/priority.js';
import { protocolOf } from '../lib/run/protocol.js';
import { runStartOptions } from '../lib/run/start.js';
import type { RunInput } from '../lib/run/types.js';
import { MlgymBenchId, MlgymRegression, MlgymSuite } from '../lib/temporal/searchAttributes.js';
import { agentRun, pinnedWhenVersioned } from './agentRun.js';

const { finishedRun, scoreBenchmark, recordBenchRun, summarizeBenchmark, compareWithPrevious } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError'] },
});

const CONTINUE_EVERY = 100;

/** Runs a benchmark execution handles before it continues as new (sooner when Temporal suggests it). */
const RUNS_PER_EXECUTION = 500;

/** Benchmarks started since this patch record each run and continue as new; older ones finish as they began. */
const BOUNDED_STATE = 'benchmark-continue-as-new';

/** Runs of benchmarks started since this patch carry the benchmark's priority and fairness key (lib/run/priority.ts). */
const RUN_PRIORITY = 'benchmark-run-priority';

/**
 * A benchmark: every task × model × seed as a child agentRun, at most `concurrency` at once; then scores
 * and AUP, and for a suite a comparison with its previous benchmark. The workflow id is the benchmark id.
 * Each run's outcome is stored by an activity as it ends; every RUNS_PER_EXECUTION runs the benchmark
 * lets its runs in flight finish and continues as new, carrying only `progress`.
 */
export async function benchmark(spec: BenchSpec, progress?: BenchProgress): Promise<BenchmarkResult> {
  if (!patched(BOUNDED_STATE)) return benchmarkInOneExecution(spec);
  const benchId = workflowInfo().workflowId;
  if (!progress) upsertSearchAttributes(benchSearchAttributes(benchId, spec));

  const jobs = benchJobs(spec);
  const pool = spec.totalBudgetUsd === undefined ? undefined : new BudgetPool(spec.totalBudgetUsd, jobs.length, progress?.pool);
  const first = progress?.next ?? 0;
  const stopAt = Math.min(jobs.length, first + Math.max(1, spec.runsPerExecution ?? RUNS_PER_EXECUTION));
  let next = first;
  const lane = async (): Promise<void> => {
    while (next < stopAt && !(next > first && workflowInfo().continueAsNewSuggested)) {
      const job = jobs[next++]!;
      await recordBenchRun({ benchId, run: await runOnce(benchId, spec, job, pool) });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(spec.concurrency, stopAt - first)) }, lane));
  if (next < jobs.length) await continueAsNew<typeof benchmark>(spec, { next, pool: pool?.state() });

  return finish(benchId, spec, await summarizeBenchmark({ benchId, spec }));
}

/** The benchmark as it ran before BOUNDED_STATE: every run's outcome kept in memory, in one execution. */
async function benchmarkInOneExecution(spec: BenchSpec): Promise<BenchmarkResult> {
  const benchId = workflowInfo().workflowId;
  upsertSearchAttributes(benchSearchAttributes(benchId, spec));
  const jobs = benchJobs(spec);
  const pool = spec.totalBudgetUsd === undefined ? undefined : new BudgetPool(spec.totalBudgetUsd, jobs.length);
  const runs = await mapLimited(jobs, spec.concurrency, (job) => runOnce(benchId, spec, job, pool));
  return finish(benchId, spec, await scoreBenchmark(runs, spec.data));
}

function benchSearchAttributes(benchId: string, spec: BenchSpec) {
  return [{ key: MlgymBenchId, value: benchId }, ...(spec.suite ? [{ key: MlgymSuite, value: spec.suite }] : [])];
}

/** The comparison with the suite's previous benchmark, flagged in a search attribute, and the result. */
async function finish(benchId: string, spec: BenchSpec, scores: BenchScores): Promise<BenchmarkResult> {
  const comparison: Comparison = spec.suite ? await compareWithPrevious({ suite: spec.suite, scores: scores.scores, noise: spec.noise, protocol: spec.protocol }) : { previousBenchId: null, regressions: [] };
  upsertSearchAttributes([{ key: MlgymRegression, value: comparison.regressions.length > 0 }]);
  return { benchId, suite: spec.suite ?? null, protocol: protocolOf(spec), ...scores, ...comparison };
}

/** A benchmark and every child run it starts stay on the build that started the benchmark (children inherit a pinned parent's version). */
setWorkflowOptions(pinnedWhenVersioned, benchmark);

/**
 * One run under its stable id: the result of an earlier execution when it completed, else a child agentRun
 * (restarting one that failed or was terminated). A run that fails is recorded, not rethrown.
 */
async function runOnce(benchId: string, spec: BenchSpec, job: BenchJob, pool: BudgetPool | undefined): Promise<BenchRun> {
  const runId = benchRunId(benchId, job);
  const finished = await finishedRun(runId);
  if (finished) {
    pool?.spentBefore(finished.costUsd);
    return benchRun(job, finished, true);
  }

  const budgetUsd = pool ? pool.reserve(spec.budgetUsd) : spec.budgetUsd;
  const gpus = spec.gpus?.[job.task] ?? 0;
  const input: RunInput = { runId, taskId: job.task, data: spec.data, gpus: spec.gpus ? gpus : undefined, protocol: spec.protocol, model: job.model, seed: job.seed, maxSteps: spec.maxSteps, keep: false, continueEvery: CONTINUE_EVERY, benchId, budgetUsd, ...(spec.hostTimeoutS ? { hostTimeoutS: spec.hostTimeoutS } : {}) };
  try {
    // Runs needing GPUs go to the GPU workers; the others stay on this workflow's queue.
    const priority = patched(RUN_PRIORITY) ? { priority: benchmarkRunPriority(benchId, spec.scheduled ?? false) } : {};
    const result = await executeChild(agentRun, { ...runStartOptions(input, gpus > 0 ? spec.gpuTaskQueue : undefined), ...priority });
    pool?.settle(budgetUsd ?? 0, result.costUsd);
    return benchRun(job, result, false);
  } catch (err) {
    if (isCancellation(err)) throw err;
    pool?.settle(budgetUsd ?? 0, undefined);
    return failedRun(job, runId, rootCause(err) ?? String(err));
  }
}
