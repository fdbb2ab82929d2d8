import type { Direction } from '../config/schema.js';
import { better, performanceRatio } from './direction.js';
import { BASELINE, type ScoresInput, type TaskScores } from './input.js';

/** MLGym's ε: an infeasible or missing score gets the worst feasible ratio × (1 + ε). */
export const EPSILON = 0.05;

export interface TaskRatios {
  /** s*: the best feasible score, null when no method is feasible. */
  best: number | null;
  /** r^w: the worst feasible ratio (1 when no method is feasible). */
  worstRatio: number;
  /** Performance ratio per method (baseline included), >= 1, 1 = best. */
  ratios: Record<string, number>;
}

/** Every method of the input in order of first appearance, then the baseline. */
export function methodsOf(input: ScoresInput): string[] {
  const methods = new Set<string>();
  for (const task of Object.values(input.tasks)) for (const method of Object.keys(task.scores)) methods.add(method);
  return [...methods, BASELINE];
}

/** Feasible: a number, >= 0 and at least as good as the baseline (so a negative baseline is infeasible). */
export function isFeasible(score: number | null | undefined, baseline: number, direction: Direction): score is number {
  return score != null && Number.isFinite(score) && score >= 0 && !better(baseline, score, direction);
}

/**
 * A task's performance ratios. Edge cases MLGym leaves undefined:
 * - no feasible method: every method gets 1 × (1 + ε), so the task counts the same for all;
 * - a feasible score whose ratio divides by zero (0 on a max metric, or anything but 0 when s* = 0 on
 *   a min metric) is scored like an infeasible one; equal scores (0 vs 0) have ratio 1.
 */
export function taskRatios(task: TaskScores, methods: readonly string[]): TaskRatios {
  const scoreOf = (method: string) => (method === BASELINE ? task.baseline : task.scores[method]);
  const feasible = methods.map(scoreOf).filter((s) => isFeasible(s, task.baseline, task.direction));
  const best = feasible.length ? feasible.reduce((a, b) => (better(b, a, task.direction) ? b : a)) : null;
  const rated = new Map<string, number>();
  for (const method of methods) {
    const score = scoreOf(method);
    if (best === null || !isFeasible(score, task.baseline, task.direction)) continue;
    const ratio = performanceRatio(score, best, task.direction);
    if (Number.isFinite(ratio)) rated.set(method, ratio);
  }
  const worstRatio = Math.max(1, ...rated.values());
  const ratios = Object.fromEntries(methods.map((m) => [m, rated.get(m) ?? worstRatio * (1 + EPSILON)]));
  return { best, worstRatio, ratios };
}
