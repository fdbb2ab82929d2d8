import type { Direction } from '../config/schema.js';
import { bestOf, isScore } from './direction.js';
import type { Attempt } from '../run/types.js';
import { BASELINE, type ScoresInput } from './input.js';

/** What scoring needs of a run (a RunResult has it). Seeds are pooled: a model's score is its best run. */
export interface ScoredRun {
  task: string;
  model: string;
  seed?: number;
  attempts: Pick<Attempt, 'kind' | 'metrics'>[];
}

export interface TaskScoring {
  direction: Direction;
  baseline: number;
  primaryMetric: string;
}

/** MLGym's two variants of a run's score, as inputs for `computeProfiles`. */
export interface VariantScores {
  /** Per run the best scored attempt (validations and submissions). */
  bestAttempt: ScoresInput;
  /** Per run its last scored evaluation (MLGym's `results.json` agent[-1]; see runLastSubmission). */
  bestSubmission: ScoresInput;
}

/** A run of the built-in `baseline` agent is scored as this method, apart from the task's baseline score. */
export const BASELINE_AGENT = 'baseline-agent';

export function runBestAttempt(run: ScoredRun, task: TaskScoring): number | null {
  return bestOf(run.attempts.map((a) => a.metrics?.[task.primaryMetric]), task.direction);
}

/**
 * MLGym's "last" ("Best Submission") score of a run: the primary metric of its last evaluation that
 * produced a score, `results.json`'s agent[-1]. That is the final submit or autosubmit when it scored,
 * else the last scored validate before it; null when nothing scored.
 */
export function runLastSubmission(run: ScoredRun, task: TaskScoring): number | null {
  const score = run.attempts.filter((a) => isScore(a.metrics?.[task.primaryMetric])).at(-1)?.metrics?.[task.primaryMetric];
  return isScore(score) ? score : null;
}

/**
 * Both variants' scores: per (task, model) the best over its runs. Every task of `tasks` and every
 * model seen in `runs` appears; a model without a scored run on a task gets null.
 */
export function scoresFromRuns(runs: readonly ScoredRun[], tasks: Record<string, TaskScoring>): VariantScores {
  const methodOf = (run: ScoredRun) => (run.model === BASELINE ? BASELINE_AGENT : run.model);
  const methods = [...new Set(runs.map(methodOf))];
  for (const run of runs) if (!(run.task in tasks)) throw new Error(`run of ${run.model} on "${run.task}": no direction, baseline and primary metric given for that task`);
  const variant = (runScore: (run: ScoredRun, task: TaskScoring) => number | null): ScoresInput => ({
    tasks: Object.fromEntries(
      Object.entries(tasks).map(([id, task]) => {
        const scoreOf = (method: string) => bestOf(runs.filter((r) => r.task === id && methodOf(r) === method).map((r) => runScore(r, task)), task.direction);
        return [id, { direction: task.direction, baseline: task.baseline, scores: Object.fromEntries(methods.map((m) => [m, scoreOf(m)])) }];
      }),
    ),
  });
  return { bestAttempt: variant(runBestAttempt), bestSubmission: variant(runLastSubmission) };
}
