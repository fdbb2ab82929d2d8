import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type WorkflowExecutionInfo } from '@temporalio/client';
import { findRegressions, type NoiseRule } from '../lib/bench/regression.js';
import { readBenchRecords, writeBenchRecord } from '../lib/bench/records.js';
import type { BenchmarkResult, BenchRun, BenchScores, BenchSpec, Comparison, TaskModelScore } from '../lib/bench/types.js';
import type { DataVariant } from '../lib/config/schema.js';
import { protocolOf, type Protocol } from '../lib/run/protocol.js';
import type { RunResult } from '../lib/run/types.js';
import { computeVariantProfiles } from '../lib/scoring/profiles.js';
import { bestOf, primaryMetricOf } from '../lib/scoring/direction.js';
import { runBestAttempt, runLastSubmission, scoresFromRuns, type TaskScoring } from '../lib/scoring/runs.js';
import { taskOrFail, type ActivityDeps } from './context.js';

/** The result of the run with this workflow id if it completed; null if there is none or it did not complete. */
export async function finishedRun(runId: string): Promise<RunResult | null> {
  const handle = Context.current().client.workflow.getHandle(runId);
  try {
    const { status } = await handle.describe();
    return status.name === 'COMPLETED' ? ((await handle.result()) as RunResult) : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Score each run on its task's primary metric, take the best per task × model, and compute AUP for both variants. */
export async function scoreBenchmark(runs: BenchRun[], data?: DataVariant): Promise<BenchScores> {
  const tasks = Object.fromEntries([...new Set(runs.map((r) => r.task))].map((id) => [id, taskScoring(id, data)]));
  const scored = runs.map((run) => {
    const { attempts, ...rest } = run;
    return { ...rest, bestAttempt: runBestAttempt(run, tasks[run.task]!), submission: runLastSubmission(run, tasks[run.task]!) };
  });
  const pairs = scored.filter((r, i) => scored.findIndex((o) => o.task === r.task && o.model === r.model) === i);
  const scores: TaskModelScore[] = pairs.map(({ task, model }) => {
    const { primaryMetric: metric, direction } = tasks[task]!;
    const runsOf = scored.filter((r) => r.task === task && r.model === model);
    return { task, model, metric, direction, bestAttempt: bestOf(runsOf.map((r) => r.bestAttempt), direction), bestSubmission: bestOf(runsOf.map((r) => r.submission), direction) };
  });
  const profiles = computeVariantProfiles(scoresFromRuns(runs, tasks));
  return { runs: scored, scores, aup: { tauMax: profiles.tauMax, bestAttempt: profiles.bestAttempt.aup, bestSubmission: profiles.bestSubmission.aup } };
}

export interface BenchRecordInput {
  benchId: string;
  run: BenchRun;
}

export interface SummarizeInput {
  benchId: string;
  spec: BenchSpec;
}

/** Activities that keep a benchmark's per-run outcomes in the artifact store instead of its workflow state. */
export function makeBenchRecords({ store }: ActivityDeps) {
  return {
    /** Store how one run ended (the benchmark workflow calls it as each run finishes). */
    recordBenchRun: async ({ benchId, run }: BenchRecordInput): Promise<void> => writeBenchRecord(store.objects, benchId, run),
    /** The scores of a benchmark whose runs are all recorded, from its records. */
    summarizeBenchmark: async ({ benchId, spec }: SummarizeInput): Promise<BenchScores> => scoreBenchmark(await readBenchRecords(store.objects, benchId, spec), spec.data),
  };
}

function taskScoring(taskId: string, data: DataVariant | undefined): TaskScoring {
  const task = taskOrFail({ taskId, data });
  const { direction } = primaryMetricOf(task);
  const baseline = task.baseline_scores[0]?.[task.primary_metric];
  if (baseline === undefined) throw ApplicationFailure.nonRetryable(`task "${taskId}" has no baseline score for ${task.primary_metric}: AUP needs one${data === 'fixture' ? ' (fixture_baseline_scores)' : ''}`, 'ConfigError');
  return { direction, baseline, primaryMetric: task.primary_metric };
}

export interface CompareInput {
  suite: string;
  scores: TaskModelScore[];
  /** The suite's noise bands per task. */
  noise: Record<string, number>;
  /** The benchmark's protocol (absent: ours); only a previous benchmark under it is compared with. */
  protocol?: Protocol;
}

/**
 * Compare with the suite's previous benchmark: the latest completed `benchmark` workflow with the same
 * MlgymSuite search attribute and protocol (this one is still running, so it is not among them).
 */
export async function compareWithPrevious({ suite, scores, noise, protocol }: CompareInput): Promise<Comparison> {
  const { client } = Context.current();
  const completed: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'benchmark' AND MlgymSuite = '${suite}' AND ExecutionStatus = 'Completed'` })) completed.push(execution);
  completed.sort((a, b) => b.closeTime!.getTime() - a.closeTime!.getTime());
  // The latest one under the same protocol: scores shown the test set and scores that were not do not compare.
  let before: BenchmarkResult | undefined;
  for (const execution of completed) {
    const result = (await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as BenchmarkResult;
    if (protocolOf(result) === protocolOf({ protocol })) {
      before = result;
      break;
    }
  }
  if (!before) return { previousBenchId: null, regressions: [] };
  const rules = Object.fromEntries([...new Set(scores.map((s) => s.task))].map((id) => [id, noiseRule(id, noise[id])]));
  return { previousBenchId: before.benchId, regressions: findRegressions(scores, before.scores, rules) };
}

function noiseRule(taskId: string, band: number | undefined): NoiseRule {
  const task = taskOrFail({ taskId });
  return { band, baselineNoise: task.baseline_noise[task.primary_metric] };
}
