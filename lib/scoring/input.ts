import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, formatPath } from '../config/load.js';
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
  const result = ScoresInput.safeParse(data);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue) })),
  );
}

/** Read and validate a scores JSON file (the input of `mlgym aup`). */
export function loadScoresInput(file: string): ScoresInput {
  if (!existsSync(file)) throw new ConfigError(file, [{ path: '', message: 'file not found' }]);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `expected valid JSON: ${(err as Error).message}` }]);
  }
  return parseScoresInput(data, file);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}
