import { describe, expect, it } from 'vitest';
import { better, bestOf, improvement, isScore, performanceRatio, primaryMetricOf, worseBeyond } from '../../lib/scoring/direction.js';

describe("the primary metric's direction (lib/scoring/direction.ts)", () => {
  it('finds the primary metric with its direction, and refuses a task whose primary metric is not declared', () => {
    const metrics = [
      { name: 'Time', direction: 'min' as const },
      { name: 'Decisions', direction: 'max' as const },
    ];
    expect(primaryMetricOf({ metrics, primary_metric: 'Time' })).toEqual({ name: 'Time', direction: 'min' });
    expect(primaryMetricOf({ metrics, primary_metric: 'Decisions' }).direction).toBe('max');
    expect(() => primaryMetricOf({ metrics, primary_metric: 'Score' })).toThrow(/"Score" is not one of the task's metrics \(Time, Decisions\)/);
  });

  it('says which of two scores is better; equal scores are neither', () => {
    expect(better(2, 1, 'max')).toBe(true);
    expect(better(1, 2, 'max')).toBe(false);
    expect(better(1, 2, 'min')).toBe(true);
    expect(better(2, 1, 'min')).toBe(false);
    for (const d of ['max', 'min'] as const) expect(better(1, 1, d)).toBe(false);
  });

  it('takes the best finite score, null when there is none', () => {
    expect(bestOf([0.2, null, 0.9, undefined, 0.5], 'max')).toBe(0.9);
    expect(bestOf([0.2, null, 0.9, undefined, 0.5], 'min')).toBe(0.2);
    expect(bestOf([-3, -1], 'max')).toBe(-1);
    expect(bestOf([NaN, Infinity, 4, -Infinity], 'min')).toBe(4);
    expect(bestOf([], 'max')).toBeNull();
    expect(bestOf([null, undefined, NaN], 'min')).toBeNull();
    expect(isScore(0)).toBe(true);
    expect(isScore(Infinity)).toBe(false);
  });

  it("gives MLGym's performance ratio against the best score: >= 1, 1 for the best", () => {
    expect(performanceRatio(0.5, 1, 'max')).toBe(2);
    expect(performanceRatio(4, 2, 'min')).toBe(2);
    expect(performanceRatio(3, 3, 'max')).toBe(1);
    expect(performanceRatio(0, 0, 'min')).toBe(1);
    expect(performanceRatio(0, 1, 'max')).toBe(Infinity);
    expect(performanceRatio(1, 0, 'min')).toBe(Infinity);
  });

  it('finds a score worse than before by more than the band, in either direction; no score is worse', () => {
    expect(worseBeyond(0.89, 1, 0.1, 'max')).toBe(true);
    expect(worseBeyond(0.9, 1, 0.1, 'max')).toBe(false);
    expect(worseBeyond(2, 1, 0.1, 'max')).toBe(false);
    expect(worseBeyond(1.11, 1, 0.1, 'min')).toBe(true);
    expect(worseBeyond(1.1, 1, 0.1, 'min')).toBe(false);
    expect(worseBeyond(0.5, 1, 0.1, 'min')).toBe(false);
    expect(worseBeyond(null, 1, 0.1, 'max')).toBe(true);
    expect(worseBeyond(null, 1, 0.1, 'min')).toBe(true);
  });

  it('measures the improvement over a reference, positive when better in either direction', () => {
    expect(improvement(0.75, 0.5, 'max')).toBe(0.25);
    expect(improvement(0.25, 0.5, 'max')).toBe(-0.25);
    expect(improvement(0.25, 0.5, 'min')).toBe(0.25);
    expect(improvement(0.75, 0.5, 'min')).toBe(-0.25);
  });
});
