import { proxyActivities, setCurrentDetails, setWorkflowOptions, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { BenchRun } from '../lib/bench/types.js';
import type { RescoreInput, RescoreResult, RunRescore } from '../lib/rescore/types.js';
import { MlgymStatus } from '../lib/temporal/searchAttributes.js';
import { pinnedWhenVersioned } from './agentRun.js';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError'] };
/** Grading may run as long as a task's evaluation; the heartbeat finds a dead worker sooner. */
const { regrade } = proxyActivities<Activities>({ startToCloseTimeout: '6h', heartbeatTimeout: '1m', retry });
const { scoreBenchmark } = proxyActivities<Activities>({ startToCloseTimeout: '5m', retry });

/**
 * Re-grade finished runs with their tasks' current evaluations (`mlgym rescore`, docs/fork.md): one `regrade`
 * per run, no model call and no agent command; for a benchmark, its scores and AUP again from the new scores.
 */
export async function rescore(input: RescoreInput): Promise<RescoreResult> {
  const runs: RunRescore[] = [];
  for (const run of input.runs) {
    setCurrentDetails(`re-grading ${run.runId} (${runs.length + 1} of ${input.runs.length})`);
    runs.push(await regrade({ ...run, all: input.all }));
  }
  const scores = input.bench ? await scoreBenchmark(benchRuns(input, runs), input.bench.data) : undefined;
  upsertSearchAttributes([{ key: MlgymStatus, value: 'completed' }]);
  const aup = scores ? Object.entries(scores.aup.bestSubmission).map(([model, value]) => `${model} ${value.toFixed(3)}`) : [];
  setCurrentDetails(`re-graded ${runs.length} run(s)${aup.length ? ` · AUP (best submission): ${aup.join(', ')}` : ''}`);
  return { target: input.target, runs, ...(scores ? { scores } : {}) };
}
setWorkflowOptions(pinnedWhenVersioned, rescore);

/** The benchmark's runs as its scoring takes them, with the new scores. */
function benchRuns(input: RescoreInput, runs: RunRescore[]): BenchRun[] {
  return input.runs.map((ref, i) => {
    const rescored = runs[i]!;
    return {
      task: ref.taskId,
      model: ref.model,
      seed: ref.seed,
      runId: ref.runId,
      reused: true,
      status: rescored.submission?.metrics ? 'completed' : 'failed',
      exitStatus: rescored.submission ? 'rescored' : 'no submission',
      attempts: rescored.attempts.map(({ kind, metrics }) => ({ kind, metrics })),
    };
  });
}
