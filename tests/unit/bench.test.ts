import { describe, expect, it } from 'vitest';
import { BudgetPool } from '../../lib/bench/budget.js';
import { benchJobs, benchRunId } from '../../lib/bench/jobs.js';
import { mapLimited } from '../../lib/bench/limit.js';
import { findRegressions, noiseBand } from '../../lib/bench/regression.js';
import type { BenchSpec, TaskModelScore } from '../../lib/bench/types.js';

const spec: BenchSpec = { tasks: ['t1', 't2'], models: ['baseline', 'replay:/some/dir/agent.yaml'], seeds: 2, maxSteps: 5, concurrency: 2, noise: {} };

describe('benchmark jobs and run ids', () => {
  it('covers every task × model × seed', () => {
    const jobs = benchJobs(spec);
    expect(jobs).toHaveLength(8);
    expect(jobs[0]).toEqual({ task: 't1', model: 'baseline', seed: 0 });
    expect(jobs.at(-1)).toEqual({ task: 't2', model: 'replay:/some/dir/agent.yaml', seed: 1 });
  });

  it('derives a stable, readable workflow id from bench, task, model and seed', () => {
    const job = { task: 'prisonersDilemma', model: 'baseline', seed: 1 };
    expect(benchRunId('bench-a1', job)).toBe('bench-a1-prisonersDilemma-baseline-s1');
    expect(benchRunId('bench-a1', job)).toBe(benchRunId('bench-a1', { ...job }));
    expect(benchRunId('bench-a2', job)).not.toBe(benchRunId('bench-a1', job));
  });

  it('keeps only id-safe characters (schedule timestamps, model specs)', () => {
    expect(benchRunId('bench-nightly-2025-01-02T03:00:00Z', { task: 't', model: 'openai:gpt-4o?tool_calling=true', seed: 0 })).toBe('bench-nightly-2025-01-02T03_00_00Z-t-openai_gpt-4o_tool_calling_true-s0');
    expect(benchRunId('b', { task: 't', model: 'replay:/some/dir/agent.yaml', seed: 3 })).toBe('b-t-replay_agent.yaml-s3');
  });
});

describe('mapLimited', () => {
  it('runs at most `limit` at once, starts the next as one finishes, and keeps the order of the results', async () => {
    // Each item waits until the test releases it, so the order of events is the test's, not a timer's.
    const release = new Map<number, () => void>();
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const done = mapLimited([0, 1, 2, 3, 4], 2, async (i) => {
      running++;
      most = Math.max(most, running);
      started.push(i);
      await new Promise<void>((r) => release.set(i, r));
      running--;
      return i * 10;
    });
    const settle = () => new Promise((r) => setImmediate(r));
    await settle();
    expect(started).toEqual([0, 1]);
    release.get(1)!();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    for (const i of [2, 0, 4, 3]) {
      await settle();
      release.get(i)!();
    }
    expect(await done).toEqual([0, 10, 20, 30, 40]);
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('handles a limit above the number of items, and no items', async () => {
    expect(await mapLimited([1, 2], 10, async (x) => x + 1)).toEqual([2, 3]);
    expect(await mapLimited([], 3, async (x: number) => x)).toEqual([]);
  });
});

function score(task: string, model: string, bestSubmission: number | null, direction: 'max' | 'min' = 'max'): TaskModelScore {
  return { task, model, metric: 'Score', direction, bestAttempt: bestSubmission, bestSubmission };
}

describe('regressions against the previous benchmark', () => {
  it('uses the suite band, else 3 × baseline noise, else 1% of the previous score', () => {
    expect(noiseBand(2, { band: 0.5, baselineNoise: 0.1 })).toBe(0.5);
    expect(noiseBand(2, { baselineNoise: 0.1 })).toBeCloseTo(0.3);
    expect(noiseBand(-200, {})).toBe(2);
    expect(noiseBand(2)).toBe(0.02);
  });

  it('flags a max metric that dropped by more than the band, not one within it or better', () => {
    const rules = { pd: { baselineNoise: 0.01 } }; // band 0.03
    const previous = [score('pd', 'a', 2.4), score('pd', 'b', 2.4), score('pd', 'c', 2.4)];
    const current = [score('pd', 'a', 2.36), score('pd', 'b', 2.38), score('pd', 'c', 2.9)];
    const found = findRegressions(current, previous, rules);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ task: 'pd', model: 'a', previous: 2.4, current: 2.36, direction: 'max' });
    expect(found[0]!.band).toBeCloseTo(0.03);
  });

  it('flags a min metric that rose by more than the band', () => {
    const rules = { loss: { band: 0.1 } };
    const previous = [score('loss', 'a', 1.0, 'min'), score('loss', 'b', 1.0, 'min')];
    const current = [score('loss', 'a', 1.2, 'min'), score('loss', 'b', 1.05, 'min')];
    expect(findRegressions(current, previous, rules).map((r) => [r.model, r.current])).toEqual([['a', 1.2]]);
    expect(findRegressions([score('loss', 'a', 0.5, 'min')], previous, rules)).toEqual([]);
  });

  it('flags a pair that lost its score; skips pairs new now or unscored before', () => {
    const previous = [score('pd', 'a', 2.4), score('pd', 'b', null)];
    const current = [score('pd', 'a', null), score('pd', 'b', 1), score('pd', 'new', 0)];
    expect(findRegressions(current, previous, {})).toEqual([{ task: 'pd', model: 'a', metric: 'Score', direction: 'max', previous: 2.4, current: null, band: expect.closeTo(0.024) }]);
  });

  it('uses the 1% default band when a task has no rule', () => {
    expect(findRegressions([score('x', 'a', 99.5)], [score('x', 'a', 100)], {})).toEqual([]);
    expect(findRegressions([score('x', 'a', 98.9)], [score('x', 'a', 100)], {})).toHaveLength(1);
  });
});

describe('a benchmark-wide budget pool', () => {
  it('never promises more than the total, whatever the runs spend and in whatever order they finish', () => {
    for (let trial = 0; trial < 200; trial++) {
      let seed = trial + 1;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const total = 1 + rand() * 20;
      const runs = 1 + Math.floor(rand() * 12);
      const pool = new BudgetPool(total, runs);
      const running: number[] = [];
      let spent = 0;
      let promised = 0;
      for (let started = 0; started < runs || running.length; ) {
        if (started < runs && (running.length === 0 || rand() < 0.5)) {
          const allowance = pool.reserve(rand() < 0.3 ? rand() * 3 : undefined);
          running.push(allowance);
          promised += allowance;
          started++;
        } else {
          const allowance = running.splice(Math.floor(rand() * running.length), 1)[0]!;
          const used = rand() * allowance;
          pool.settle(allowance, used);
          spent += used;
          promised -= allowance;
        }
        expect(spent + promised).toBeLessThanOrEqual(total + 1e-9);
      }
    }
  });

  it('shares equally, caps by the per-run budget and gives unspent money to later runs', () => {
    const pool = new BudgetPool(10, 4);
    expect(pool.reserve()).toBe(2.5);
    expect(pool.reserve(1)).toBe(1);
    pool.settle(2.5, 0.5); // 2 back
    expect(pool.reserve()).toBeCloseTo((10 - 0.5 - 1) / 2);
  });

  it('counts runs of an earlier execution with what they spent', () => {
    const pool = new BudgetPool(10, 2);
    pool.spentBefore(4);
    expect(pool.reserve()).toBe(6);
  });
});
