import { z } from 'zod';
import { loadConfigFile, validateConfig } from '../config/load.js';
import { Direction } from '../config/schema.js';

/** The method name of a task's baseline score in profiles and ranks. */
export const BASELINE = 'baseline';

const TaskScores = z
  .strictObject({
    direction: Direction,
    baseline: z.number(),
    /** Primary-metric score per method; null when the method has no score on the task. */
    scores: z.record(z.string().min(1, 'expected a non-empty method name'), z.number().nullable()),
  })
  .superRefine((task, ctx) => {
    if (BASELINE in task.scores) {
      ctx.addIssue({ code: 'custom', path: ['scores', BASELINE], message: `"${BASELINE}" is reserved: give the baseline score in the task's "baseline" field` });
    }
  });
export type TaskScores = z.infer<typeof TaskScores>;

/** What `computeProfiles` scores: per task the direction, the baseline and each method's score. */
export const ScoresInput = z.strictObject({
  tasks: z.record(z.string().min(1, 'expected a non-empty task id'), TaskScores).refine((tasks) => Object.keys(tasks).length > 0, 'expected at least one task'),
});
export type ScoresInput = z.infer<typeof ScoresInput>;

/** Validate scores (already parsed); a ConfigError names `source` and each bad field's path. */
export function parseScoresInput(data: unknown, source: string): ScoresInput {
  return validateConfig(ScoresInput, data, source);
}

/** Read and validate a scores JSON file (the input of `mlgym aup`). */
export function loadScoresInput(file: string): ScoresInput {
  return loadConfigFile(file, ScoresInput, { format: 'json' });
}
