import { gradeWorkspace, type GradeOutcome, type Split } from '../lib/sandbox/grader.js';
import { recordName, type ObservationRecord } from '../lib/run/records.js';
import type { Attempt, AttemptKind, TaskRef } from '../lib/run/types.js';
import { taskOrFail, type ActivityDeps } from './context.js';
import { withHeartbeat } from './heartbeat.js';
import type { LoadedTask } from '../lib/config/load.js';

export interface GradeInput extends TaskRef {
  runId: string;
  step: number;
  image: string;
}

function formatMetrics(metrics: Record<string, number>): string {
  return JSON.stringify(metrics);
}

function validationObservation(task: LoadedTask, attempt: Attempt): string {
  if (attempt.error) return `Validation failed: ${attempt.error}`;
  const artifact = task.submission_artifact ?? 'your workspace';
  const baseline = task.baseline_scores[0];
  return [
    `Your code produced a valid submission artefact at ${artifact}.`,
    ...(baseline ? [`Baseline Score: ${formatMetrics(baseline)}`] : []),
    `Evaluation Score (${task.validate_shows} split): ${formatMetrics(attempt.shownMetrics ?? {})}`,
  ].join('\n');
}

function errorKind(error: string): Attempt['errorKind'] {
  return /not found|no such file|missing/i.test(error) ? 'submission_not_found' : 'evaluation_format_error';
}

/**
 * The attempt as recorded. Only the shown split's error reaches the agent (`error`); a failure on the
 * private test split alone is kept in `scoringError`, so its message cannot leak test data.
 */
export function toAttempt(step: number, kind: AttemptKind, scored: GradeOutcome | undefined, shown: GradeOutcome | undefined): Attempt {
  if (shown && !shown.ok) return { step, kind, error: shown.error, errorKind: errorKind(shown.error) };
  const attempt: Attempt = { step, kind, shownMetrics: shown?.metrics };
  if (scored?.ok) attempt.metrics = scored.metrics;
  else if (scored) Object.assign(attempt, { scoringError: scored.error, errorKind: errorKind(scored.error) });
  return attempt;
}

/**
 * The `validate` or `submit` activity: evaluate the workspace in the grader. The agent sees the
 * `validate_shows` split; the test split is always recorded privately, so best-attempt scoring keeps
 * MLGym's meaning.
 */
export function makeGrade({ store }: ActivityDeps, kind: AttemptKind) {
  return async function grade(input: GradeInput): Promise<Attempt> {
    const { runId, step, image } = input;
    return store.once(runId, recordName.attempt(step), async () => {
      const task = taskOrFail(input);
      const shownSplit: Split = kind === 'submit' ? 'test' : task.validate_shows;
      const splits: Split[] = shownSplit === 'test' ? ['test'] : ['validation', 'test'];
      const outcomes = await withHeartbeat(() => gradeWorkspace(runId, step, image, task, splits));
      const attempt = toAttempt(step, kind, outcomes.test, outcomes[shownSplit]);
      const observation = kind === 'validate' ? validationObservation(task, attempt) : attempt.error ? `Submission failed: ${attempt.error}` : 'Submitted.';
      await store.writeJson(runId, recordName.observation(step), { step, observation } satisfies ObservationRecord);
      await store.log(runId, `step ${step}: ${kind} ${attempt.error ? `error: ${attempt.error}` : JSON.stringify(attempt.metrics)}`);
      return attempt;
    });
  };
}
