import { bestAttempt, exitStatus, mlgymResults } from '../lib/run/score.js';
import { protocolOf } from '../lib/run/protocol.js';
import { recordName } from '../lib/run/records.js';
import type { Attempt, ExitReason, RunResult, TaskRef } from '../lib/run/types.js';
import { primaryMetricOf } from '../lib/scoring/direction.js';
import { runBuilds } from '../lib/temporal/deployment.js';
import { taskOrFail, type ActivityDeps } from './context.js';

export interface ScoreInput extends TaskRef {
  runId: string;
  model: string;
  steps: number;
  costUsd: number;
  attempts: Attempt[];
  /** How the run ended: the agent's submit, or the reason it was ended for it. */
  endedBy: ExitReason | 'submit';
}

/** Compute the run's result (best attempt, submission, exit status) and store it with MLGym's results.json. */
export function makeScore({ store }: ActivityDeps) {
  return async function score(input: ScoreInput): Promise<RunResult> {
    const task = taskOrFail(input);
    const { direction } = primaryMetricOf(task);
    const final = input.attempts.filter((a) => a.kind === 'submit').at(-1) ?? null;
    const status = exitStatus(final, input.endedBy);
    const result: RunResult = {
      runId: input.runId,
      task: input.taskId,
      model: input.model,
      status: final?.metrics ? 'completed' : 'failed',
      exitStatus: status,
      steps: input.steps,
      costUsd: input.costUsd,
      attempts: input.attempts,
      bestAttempt: bestAttempt(input.attempts, task.primary_metric, direction),
      submission: final?.metrics ? final : null,
      // Recorded by each versioned worker as it executed the run's activities (this one included).
      builds: await runBuilds(store, input.runId),
      protocol: protocolOf(input),
    };
    await store.writeJson(input.runId, recordName.result, result);
    await store.writeJson(input.runId, recordName.mlgymResults, mlgymResults(input.attempts, task.baseline_scores[0]));
    await store.log(input.runId, `finished: ${status}`);
    return result;
  };
}
