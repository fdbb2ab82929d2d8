// The primary metric's direction: which of two scores is better, the best of several, MLGym's performance
// ratio and "worse by more than a band" all follow from it here and nowhere else.
// Pure (type imports only): imported by workflow code.
import type { Direction, TaskConfig } from '../config/schema.js';

type Metric = TaskConfig['metrics'][number];

/** The task's primary metric with its direction (the task schema checks that it is one of the metrics). */
export function primaryMetricOf(task: Pick<TaskConfig, 'metrics' | 'primary_metric'>): Metric {
  const metric = task.metrics.find((m) => m.name === task.primary_metric);
  if (!metric) throw new Error(`the primary metric "${task.primary_metric}" is not one of the task's metrics (${task.metrics.map((m) => m.name).join(', ')})`);
  return metric;
}

/** A score: a finite number. */
export function isScore(v: number | null | undefined): v is number {
  return v != null && Number.isFinite(v);
}

/** Is `a` better than `b` on the given direction? (Equal scores: neither is.) */
export function better(a: number, b: number, direction: Direction): boolean {
  return direction === 'max' ? a > b : a < b;
}

/** The best of the scores (finite values), null when there is none; the first of equal bests. */
export function bestOf(values: readonly (number | null | undefined)[], direction: Direction): number | null {
  let best: number | null = null;
  for (const v of values) if (isScore(v) && (best === null || better(v, best, direction))) best = v;
  return best;
}

/**
 * MLGym's performance ratio of `score` to the best score s*: best ÷ score on a max metric, score ÷ best on
 * a min one; 1 for the best itself (also 0 against 0). Infinite where it divides by zero: the caller decides.
 */
export function performanceRatio(score: number, best: number, direction: Direction): number {
  if (score === best) return 1;
  return direction === 'max' ? best / score : score / best;
}

/** Is `now` worse than `before` by more than `band`? No score at all (null) is worse. */
export function worseBeyond(now: number | null, before: number, band: number, direction: Direction): boolean {
  if (now === null) return true;
  return better(direction === 'max' ? before - band : before + band, now, direction);
}

/** How much better `score` is than `reference`: positive when better, negative when worse, whatever the direction. */
export function improvement(score: number, reference: number, direction: Direction): number {
  return direction === 'max' ? score - reference : reference - score;
}
