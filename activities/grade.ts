import type { ArtifactStore } from '../lib/artifacts/store.js';
import type { LoadedTask } from '../lib/config/load.js';
import { shownSplit } from '../lib/run/protocol.js';
import { recordName, timedObservation, type ObservationRecord } from '../lib/run/records.js';
import type { Attempt, AttemptKind, TaskRef } from '../lib/run/types.js';
import { findAgentContainer } from '../lib/sandbox/container.js';
import { gradeWorkspace, graderArchive, type GradeOutcome, type Split } from '../lib/sandbox/grader.js';
import { gradingKey, reusableOutcomes, type GradingRecord } from '../lib/sandbox/gradingKey.js';
import { endStrayProcesses } from '../lib/sandbox/session.js';
import { takeSnapshot } from '../lib/sandbox/snapshot.js';
import { readManifest } from '../lib/snapshots/manifest.js';
import { snapshotStore } from '../lib/snapshots/store.js';
import { taskOrFail, type ActivityDeps } from './context.js';
import { engineOrHostLost } from './engine.js';
import { withHeartbeat } from './heartbeat.js';

export interface GradeInput extends TaskRef {
  runId: string;
  step: number;
  image: string;
  /** The run's host timeout (RunState.hostTimeoutS): how long this host's engine may not answer before the run moves. */
  hostTimeoutS?: number;
}

function formatMetrics(metrics: Record<string, number>): string {
  return JSON.stringify(metrics);
}

function validationObservation(task: LoadedTask, split: Split, attempt: Attempt): string {
  if (attempt.error) return `Validation failed: ${attempt.error}`;
  const artifact = task.submission_artifact ?? 'your workspace';
  const baseline = task.baseline_scores[0];
  return [
    `Your code produced a valid submission artefact at ${artifact}.`,
    ...(baseline ? [`Baseline Score: ${formatMetrics(baseline)}`] : []),
    `Evaluation Score (${split} split): ${formatMetrics(attempt.shownMetrics ?? {})}`,
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
 * The splits' outcomes for the workspace as snapshotted at this step: the run's last grading's when
 * nothing it depends on changed since (a submit right after a validate), else a new evaluation, which
 * becomes the last grading.
 */
async function gradeOrReuse(store: ArtifactStore, { runId, step, image }: GradeInput, task: LoadedTask, splits: Split[]) {
  const files = await graderArchive(task);
  const workspace = await readManifest(snapshotStore(store), runId, step);
  const key = workspace && gradingKey(workspace, files, image, task);
  const earlier = key ? await store.readJson<GradingRecord>(runId, recordName.grading) : undefined;
  const reused = key ? reusableOutcomes(earlier, key, splits) : undefined;
  if (reused) return { outcomes: reused, reusedFrom: earlier!.step };
  const outcomes = await withHeartbeat(() => gradeWorkspace(runId, step, image, task, splits, files));
  if (key) await store.writeJson(runId, recordName.grading, { key, step, outcomes } satisfies GradingRecord);
  return { outcomes };
}

/**
 * The `validate` or `submit` activity: evaluate the workspace in the grader. The agent sees the split
 * `shownSplit` names (the task's `validate_shows`, or the test split under MLGym's protocol); the test
 * split is always recorded privately, so best-attempt scoring keeps MLGym's meaning. The observation
 * record carries the seconds grading took (the step's execution time).
 */
export function makeGrade({ store }: ActivityDeps, kind: AttemptKind) {
  return async function grade(input: GradeInput): Promise<Attempt> {
    const { runId, step, image } = input;
    return store.once(runId, recordName.attempt(step), async () => {
      const task = taskOrFail(input);
      await engineOrHostLost(input.hostTimeoutS);
      const shown = shownSplit(kind, task.validate_shows, input.protocol);
      const splits: Split[] = shown === 'test' ? ['test'] : ['validation', 'test'];
      // What is graded is what is kept: nothing of the agent's may still change the workspace.
      const agent = await findAgentContainer(runId);
      if (agent?.State === 'running') await endStrayProcesses(agent.Id);
      // The graded workspace is kept (incrementally), so `mlgym rescore` can grade it again without re-running anything.
      await withHeartbeat(() => takeSnapshot(snapshotStore(store), runId, step));
      const { attempt, ...record } = await timedObservation(async () => {
        const { outcomes, reusedFrom } = await gradeOrReuse(store, input, task, splits);
        const attempt = { ...toAttempt(step, kind, outcomes.test, outcomes[shown]), ...(reusedFrom !== undefined ? { reusedFrom } : {}) };
        const observation = kind === 'validate' ? validationObservation(task, shown, attempt) : attempt.error ? `Submission failed: ${attempt.error}` : 'Submitted.';
        return { step, observation, attempt };
      });
      await store.writeJson(runId, recordName.observation(step), record satisfies ObservationRecord);
      await store.log(runId, `step ${step}: ${kind} ${attempt.error ? `error: ${attempt.error}` : JSON.stringify(attempt.metrics)}`);
      return attempt;
    });
  };
}
