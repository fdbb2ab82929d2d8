import { worseBeyond } from '../scoring/direction.js';
import type { Regression, TaskModelScore } from './types.js';

/** What counts as noise on a task's primary metric. */
export interface NoiseRule {
  /** An explicit band (the suite's `noise`). */
  band?: number;
  /** The task's baseline noise on the metric; the band is three times it. */
  baselineNoise?: number;
}

/** Relative band when a task declares no noise: 1% of the previous score. */
export const DEFAULT_RELATIVE_BAND = 0.01;

export function noiseBand(previous: number, rule: NoiseRule = {}): number {
  if (rule.band !== undefined) return rule.band;
  if (rule.baselineNoise !== undefined) return 3 * rule.baselineNoise;
  return Math.abs(previous) * DEFAULT_RELATIVE_BAND;
}

/**
 * Task × model pairs whose best submission is worse than in the previous benchmark by more than the noise
 * band. A pair that had a score and now has none regressed; a pair new in this benchmark is not compared.
 */
export function findRegressions(current: TaskModelScore[], previous: TaskModelScore[], rules: Record<string, NoiseRule>): Regression[] {
  const regressions: Regression[] = [];
  for (const { task, model, metric, direction, bestSubmission: now } of current) {
    const before = previous.find((p) => p.task === task && p.model === model && p.metric === metric)?.bestSubmission;
    if (before === null || before === undefined) continue;
    const band = noiseBand(before, rules[task]);
    if (worseBeyond(now, before, band, direction)) regressions.push({ task, model, metric, direction, previous: before, current: now, band });
  }
  return regressions;
}
