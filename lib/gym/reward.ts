import type { GymMetric, GymObservation } from './types.js';

/**
 * How a step is rewarded. `zero` (default): 0 for every step, as MLGym's environment does; the final score
 * is in the info. `improvement`: on a step that produced a score, that score's improvement over the
 * task's baseline (positive is better, whatever the metric's direction): the submission's score on the
 * step that ends the episode, else a `validate` score; 0 on every other step and when the task records
 * no baseline. A function computes its own reward from the observation.
 */
export type RewardMode = 'zero' | 'improvement' | ((observation: GymObservation) => number);

/** `score` minus the baseline for a metric to maximise, the baseline minus `score` for one to minimise. */
export function improvementOver(metric: GymMetric, score: number): number {
  if (metric.baseline === null) return 0;
  return metric.direction === 'max' ? score - metric.baseline : metric.baseline - score;
}

/** The score a step produced: the final score on the observation that ends the episode, else a validate's shown score. */
export function scoreOf(obs: GymObservation): number | null {
  if (obs.final) return obs.final.score;
  if (obs.validation?.kind === 'validate') return obs.validation.metrics?.[obs.metric.name] ?? null;
  return null;
}

export function stepReward(obs: GymObservation, mode: RewardMode = 'zero'): number {
  if (typeof mode === 'function') return mode(obs);
  if (mode === 'zero') return 0;
  const score = scoreOf(obs);
  return score === null ? 0 : improvementOver(obs.metric, score);
}
