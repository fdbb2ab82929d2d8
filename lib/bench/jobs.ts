// Pure: imported by workflow code.
import { modelInId, toId } from '../run/ids.js';
import type { RunResult } from '../run/types.js';
import type { BenchJob, BenchRun, BenchSpec } from './types.js';

/** Every task × model × seed of the spec, tasks outermost. */
export function benchJobs(spec: BenchSpec): BenchJob[] {
  return spec.tasks.flatMap((task) => spec.models.flatMap((model) => Array.from({ length: spec.seeds }, (_, seed) => ({ task, model, seed }))));
}

/**
 * The run's workflow id, stable for (benchId, task, model, seed): a benchmark re-run or extended under the
 * same id finds its finished runs again. A replay file is named by its file name only.
 */
export function benchRunId(benchId: string, { task, model, seed }: BenchJob): string {
  return toId(`${benchId}-${task}-${modelInId(model)}-s${seed}`);
}

/** What the benchmark keeps of a run's result. */
export function benchRun(job: BenchJob, result: RunResult, reused: boolean): BenchRun {
  const { runId, status, exitStatus } = result;
  return { ...job, runId, reused, status, exitStatus, attempts: result.attempts.map(({ kind, metrics }) => ({ kind, metrics })) };
}

/** A run whose workflow failed (or could not start): it counts as a failed run, not a failed benchmark. */
export function failedRun(job: BenchJob, runId: string, error: string): BenchRun {
  return { ...job, runId, reused: false, status: 'failed', exitStatus: 'exit_error', attempts: [], error };
}
