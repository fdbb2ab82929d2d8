import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config/load.js';
import { parseScoresInput, type ScoresInput } from '../../lib/scoring/input.js';
import { areaUnderProfile, computeProfiles, computeVariantProfiles, defaultTauMax, tauGrid } from '../../lib/scoring/profiles.js';
import { averageRanks } from '../../lib/scoring/ranks.js';
import { isFeasible, taskRatios } from '../../lib/scoring/ratios.js';
import { BASELINE_AGENT, runLastSubmission, scoresFromRuns, type ScoredRun, type TaskScoring } from '../../lib/scoring/runs.js';

/**
 * Three tasks, three models and the baseline; ratios by hand:
 * - house (max, baseline 0.5): A 0.8 best; B 0.4 is below the baseline; C missing. s* = 0.8, the
 *   baseline's ratio 0.8/0.5 = 1.6 is r^w, so B and C get 1.6 × 1.05 = 1.68.
 * - loss (min, baseline 4): A 2 best; B 3/2 = 1.5; the baseline 4/2 = 2 = r^w; C 5 is worse than the
 *   baseline: 2 × 1.05 = 2.1.
 * - blotto (max, baseline −0.25, itself infeasible): A 0.2 best; B 0.2/0.1 = 2 = r^w; C −0.1 < 0 and
 *   the baseline get 2.1.
 */
const threeTasks: ScoresInput = {
  tasks: {
    house: { direction: 'max', baseline: 0.5, scores: { A: 0.8, B: 0.4, C: null } },
    loss: { direction: 'min', baseline: 4, scores: { A: 2, B: 3, C: 5 } },
    blotto: { direction: 'max', baseline: -0.25, scores: { A: 0.2, B: 0.1, C: -0.1 } },
  },
};

function expectRatios(actual: Record<string, number>, expected: Record<string, number>) {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [method, r] of Object.entries(expected)) expect(actual[method], method).toBeCloseTo(r, 12);
}

describe('feasibility', () => {
  it('needs a score >= 0 that is at least as good as the baseline', () => {
    expect(isFeasible(0.5, 0.5, 'max')).toBe(true);
    expect(isFeasible(0.4, 0.5, 'max')).toBe(false);
    expect(isFeasible(3, 4, 'min')).toBe(true);
    expect(isFeasible(5, 4, 'min')).toBe(false);
    expect(isFeasible(-0.1, -0.25, 'max')).toBe(false);
    expect(isFeasible(null, 0, 'max')).toBe(false);
    expect(isFeasible(Number.NaN, 0, 'max')).toBe(false);
  });
});

describe('performance ratios', () => {
  const methods = ['A', 'B', 'C', 'baseline'];

  it('max metric: s*/s, infeasible and missing scores get r^w × 1.05', () => {
    const t = taskRatios(threeTasks.tasks.house!, methods);
    expect(t.best).toBe(0.8);
    expect(t.worstRatio).toBeCloseTo(1.6, 12);
    expectRatios(t.ratios, { A: 1, B: 1.68, C: 1.68, baseline: 1.6 });
  });

  it('min metric: s/s*', () => {
    const t = taskRatios(threeTasks.tasks.loss!, methods);
    expect(t.best).toBe(2);
    expectRatios(t.ratios, { A: 1, B: 1.5, C: 2.1, baseline: 2 });
  });

  it('a negative baseline is itself infeasible (Blotto)', () => {
    expectRatios(taskRatios(threeTasks.tasks.blotto!, methods).ratios, { A: 1, B: 2, C: 2.1, baseline: 2.1 });
  });

  it('no feasible method: everyone gets 1 × 1.05', () => {
    const t = taskRatios({ direction: 'max', baseline: -0.5, scores: { A: -0.2, B: null } }, ['A', 'B', 'baseline']);
    expect(t.best).toBeNull();
    expect(t.worstRatio).toBe(1);
    expectRatios(t.ratios, { A: 1.05, B: 1.05, baseline: 1.05 });
  });

  it('a feasible 0 on a max metric (division by zero) is scored like an infeasible score', () => {
    const t = taskRatios({ direction: 'max', baseline: 0, scores: { A: 0, B: 0.5 } }, ['A', 'B', 'baseline']);
    expectRatios(t.ratios, { A: 1.05, B: 1, baseline: 1.05 });
  });

  it('all-zero scores on a max metric tie at ratio 1', () => {
    expectRatios(taskRatios({ direction: 'max', baseline: 0, scores: { A: 0 } }, ['A', 'baseline']).ratios, { A: 1, baseline: 1 });
  });

  it('s* = 0 on a min metric: only the zeros have a ratio', () => {
    const t = taskRatios({ direction: 'min', baseline: 1, scores: { A: 0, B: 0.5 } }, ['A', 'B', 'baseline']);
    expectRatios(t.ratios, { A: 1, B: 1.05, baseline: 1.05 });
  });

  it('a method absent from a task counts as missing', () => {
    const input: ScoresInput = { tasks: { a: { direction: 'max', baseline: 1, scores: { A: 2 } }, b: { direction: 'max', baseline: 1, scores: { B: 3 } } } };
    const r = computeProfiles(input).ratios;
    expectRatios(r.a!, { A: 1, B: 2.1, baseline: 2 });
    expectRatios(r.b!, { A: 3.15, B: 1, baseline: 3 });
  });
});

describe('τ grid and T', () => {
  it('T = ceil_0.1(log10 max_p ceil(r^w × 1.05))', () => {
    // r^w: 1.6, 2, 2 → ceil(1.68) = 2, ceil(2.1) = 3 → log10 3 = 0.477 → 0.5
    expect(defaultTauMax(threeTasks)).toBe(0.5);
    const oneTask = (baseline: number, score: number): ScoresInput => ({ tasks: { t: { direction: 'max', baseline, scores: { A: score } } } });
    // r^w = 10: 10.5 → 11 → log10 11 = 1.04 → 1.1
    expect(defaultTauMax(oneTask(0.1, 1))).toBe(1.1);
    // r^w = 9: 9.45 → 10 → log10 10 = 1 exactly → 1
    expect(defaultTauMax(oneTask(2, 18))).toBe(1);
    // r^w = 8: 8.4 → 9 → 0.954 → 1
    expect(defaultTauMax(oneTask(0.125, 1))).toBe(1);
    // r^w = 1 (only ties): ceil(1.05) = 2 → 0.301 → 0.4
    expect(defaultTauMax(oneTask(1, 1))).toBe(0.4);
    // over several inputs: the largest
    expect(defaultTauMax(oneTask(1, 1), oneTask(0.125, 1), threeTasks)).toBe(1);
  });

  it('has 500 points from 0 to T', () => {
    const tau = tauGrid(1.5);
    expect(tau).toHaveLength(500);
    expect(tau[0]).toBe(0);
    expect(tau[499]).toBe(1.5);
    expect(tau[1]).toBeCloseTo(1.5 / 499, 15);
  });

  it('AUP is the left-step sum', () => {
    // τ = 0, 1, 3; ρ = 0.5, 1, 1 → 1 × 0.5 + 2 × 1; the last ρ is not used
    expect(areaUnderProfile([0, 1, 3], [0.5, 1, 0])).toBe(2.5);
  });
});

describe('computeProfiles', () => {
  it('AUP, profiles, ratios and ranks of the three-task example', () => {
    const r = computeProfiles(threeTasks);
    expect(r.methods).toEqual(['A', 'B', 'C', 'baseline']);
    expect(r.tauMax).toBe(0.5);
    expectRatios(r.ratios.house!, { A: 1, B: 1.68, C: 1.68, baseline: 1.6 });
    // Grid step h = 0.5/499; a task with log10 ratio c counts from the first i with i × h >= c,
    // i.e. i = ceil(998 c), in (499 − i) of the 499 left steps.
    // A: ratio 1 everywhere → ρ = 1 → AUP = T = 0.5
    expect(r.aup.A).toBeCloseTo(0.5, 12);
    // B: log10 1.68 = 0.22531 → i 225, 274 steps; log10 1.5 = 0.17609 → i 176, 323; log10 2 = 0.30103 → i 301, 198
    //    AUP = h (274 + 323 + 198) / 3 = (0.5/499)(265) = 0.265531…
    expect(r.aup.B).toBeCloseTo((0.5 / 499) * 265, 12);
    // C: log10 1.68 → 274; log10 2.1 = 0.32222 → i 322, 177 (twice) → h (274 + 177 + 177) / 3 = 314/1497
    expect(r.aup.C).toBeCloseTo(314 / 1497, 12);
    // baseline: log10 1.6 = 0.20412 → i 204, 295; log10 2 → 198; log10 2.1 → 177 → h × 670/3 = 335/1497
    expect(r.aup.baseline).toBeCloseTo(335 / 1497, 12);
    // ρ_B at τ = 0.2: only the loss task (0.176) is within
    expect(r.profiles.B![Math.floor(0.2 / (0.5 / 499))]).toBeCloseTo(1 / 3, 12);
    // ranks per task (ties averaged): house A 1, baseline 2, B = C = 3.5; loss A 1, B 2, baseline 3,
    // C 4; blotto A 1, B 2, C = baseline = 3.5
    expect(r.ranks.A).toBe(1);
    expect(r.ranks.B).toBeCloseTo(7.5 / 3, 12);
    expect(r.ranks.C).toBeCloseTo(11 / 3, 12);
    expect(r.ranks.baseline).toBeCloseTo(8.5 / 3, 12);
  });

  it('a single task with a given T: AUP counted by hand', () => {
    // ratios A 1, baseline 2 (log10 2 = 0.30103); T = 0.499 so τ_i = i/1000:
    // A: 499 steps × 0.001 = 0.499; baseline counts from i = 302: (499 − 302) × 0.001 = 0.197
    const r = computeProfiles({ tasks: { t: { direction: 'max', baseline: 1, scores: { A: 2 } } } }, { tauMax: 0.499 });
    expect(r.tauMax).toBe(0.499);
    expect(r.aup.A).toBeCloseTo(0.499, 12);
    expect(r.aup.baseline).toBeCloseTo(0.197, 12);
    expect(r.ranks).toEqual({ A: 1, baseline: 2 });
  });

  it('identical scores tie: same ratio, same AUP, averaged rank', () => {
    const r = computeProfiles({ tasks: { t: { direction: 'min', baseline: 2, scores: { A: 1, B: 1, C: 1.5 } } } });
    expect(r.ratios.t).toEqual({ A: 1, B: 1, C: 1.5, baseline: 2 });
    expect(r.aup.A).toBe(r.aup.B);
    expect(r.ranks).toEqual({ A: 1.5, B: 1.5, C: 3, baseline: 4 });
  });

  it('treats NaN like a missing score', () => {
    const r = computeProfiles({ tasks: { t: { direction: 'max', baseline: 1, scores: { A: Number.NaN, B: 2 } } } });
    expect(r.ratios.t!.A).toBeCloseTo(2.1, 12);
  });

  it('rejects a non-positive T and an input without tasks', () => {
    expect(() => computeProfiles(threeTasks, { tauMax: 0 })).toThrow(RangeError);
    expect(() => computeProfiles({ tasks: {} })).toThrow(/no tasks/);
  });

  it('variants share one T', () => {
    const wide: ScoresInput = { tasks: { t: { direction: 'max', baseline: 0.125, scores: { A: 1 } } } };
    const both = computeVariantProfiles({ bestAttempt: threeTasks, bestSubmission: wide });
    expect(both.tauMax).toBe(1);
    expect(both.bestAttempt.tauMax).toBe(1);
    expect(both.bestSubmission.tau.at(-1)).toBe(1);
  });
});

describe('averageRanks', () => {
  it('averages tied ranks', () => {
    expect(averageRanks([3, 1, 2, 2])).toEqual([4, 1, 2.5, 2.5]);
    expect(averageRanks([5, 5, 5])).toEqual([2, 2, 2]);
    expect(averageRanks([])).toEqual([]);
  });
});

describe('scores input validation', () => {
  it('names the source and the field path', () => {
    let error: ConfigError | undefined;
    try {
      parseScoresInput({ tasks: { house: { direction: 'up', baseline: 1, scores: { A: '0.5' } } } }, 'scores.json');
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.file).toBe('scores.json');
    expect(error!.problems.map((p) => p.path)).toEqual(['tasks.house.direction', 'tasks.house.scores.A']);
  });

  it('rejects unknown fields, no tasks, and a method named baseline', () => {
    expect(() => parseScoresInput({ tasks: {}, extra: 1 }, 's.json')).toThrow(/unknown field\(s\) "extra"/);
    expect(() => parseScoresInput({ tasks: {} }, 's.json')).toThrow(/tasks: expected at least one task/);
    expect(() => parseScoresInput({ tasks: { t: { direction: 'max', baseline: 1, scores: { baseline: 2 } } } }, 's.json')).toThrow(/tasks\.t\.scores\.baseline: "baseline" is reserved/);
  });

  it('accepts null scores', () => {
    expect(parseScoresInput({ tasks: { t: { direction: 'min', baseline: 1, scores: { A: null } } } }, 's.json').tasks.t!.scores.A).toBeNull();
  });
});

describe('scoresFromRuns', () => {
  const tasks: Record<string, TaskScoring> = {
    house: { direction: 'max', baseline: 0.88, primaryMetric: 'r2' },
    loss: { direction: 'min', baseline: 4.67, primaryMetric: 'val_loss' },
  };
  const runs: ScoredRun[] = [
    {
      task: 'house',
      model: 'gpt',
      seed: 0,
      attempts: [
        { kind: 'validate', metrics: { r2: 0.7, rmse: 1 } },
        { kind: 'validate', metrics: { r2: 0.92 } },
        { kind: 'submit', metrics: { r2: 0.75 } },
      ],
    },
    { task: 'house', model: 'gpt', seed: 1, attempts: [{ kind: 'validate', metrics: { r2: 0.6 } }, { kind: 'submit' }] },
    { task: 'house', model: 'claude', seed: 0, attempts: [{ kind: 'validate' }] },
    // an autosubmit is a submit attempt; the last submit counts even when an earlier one scored better
    { task: 'loss', model: 'claude', seed: 0, attempts: [{ kind: 'submit', metrics: { val_loss: 3.9 } }, { kind: 'validate', metrics: { val_loss: 3.5 } }, { kind: 'submit', metrics: { val_loss: 4.1 } }] },
    { task: 'loss', model: 'claude', seed: 1, attempts: [{ kind: 'submit', metrics: { val_loss: 4.3 } }] },
    { task: 'house', model: 'baseline', seed: 0, attempts: [{ kind: 'submit', metrics: { r2: 0.87 } }] },
  ];

  it('best attempt and last submission per run, then the best over seeds', () => {
    const { bestAttempt, bestSubmission } = scoresFromRuns(runs, tasks);
    expect(bestAttempt.tasks.house).toEqual({ direction: 'max', baseline: 0.88, scores: { gpt: 0.92, claude: null, [BASELINE_AGENT]: 0.87 } });
    expect(bestSubmission.tasks.house!.scores).toEqual({ gpt: 0.75, claude: null, [BASELINE_AGENT]: 0.87 });
    expect(bestAttempt.tasks.loss).toEqual({ direction: 'min', baseline: 4.67, scores: { gpt: null, claude: 3.5, [BASELINE_AGENT]: null } });
    expect(bestSubmission.tasks.loss!.scores.claude).toBe(4.1);
    expect(computeProfiles(bestAttempt).methods).toEqual(['gpt', 'claude', BASELINE_AGENT, 'baseline']);
  });

  it("takes MLGym's last score of a run: the final submission when it scored, else the last scored validate", () => {
    const house = tasks.house!;
    const run = (attempts: ScoredRun['attempts']): ScoredRun => ({ task: 'house', model: 'gpt', attempts });
    expect(runLastSubmission(run([{ kind: 'validate', metrics: { r2: 0.9 } }, { kind: 'submit', metrics: { r2: 0.8 } }]), house)).toBe(0.8);
    // results.json's agent[-1]: the submit failed, so the validate before it is the run's last score
    expect(runLastSubmission(run([{ kind: 'validate', metrics: { r2: 0.6 } }, { kind: 'validate', metrics: { r2: 0.7 } }, { kind: 'submit' }]), house)).toBe(0.7);
    expect(runLastSubmission(run([{ kind: 'validate' }, { kind: 'submit' }]), house)).toBeNull();
    const { bestSubmission } = scoresFromRuns([run([{ kind: 'validate', metrics: { r2: 0.95 } }, { kind: 'submit' }]), { ...run([{ kind: 'submit', metrics: { r2: 0.9 } }]), seed: 1 }], { house });
    expect(bestSubmission.tasks.house!.scores.gpt).toBe(0.95);
  });

  it('lists tasks without runs and fails on a run of an unknown task', () => {
    const { bestAttempt } = scoresFromRuns([], { house: tasks.house! });
    expect(bestAttempt.tasks).toEqual({ house: { direction: 'max', baseline: 0.88, scores: {} } });
    expect(() => scoresFromRuns([{ task: 'nope', model: 'gpt', attempts: [] }], tasks)).toThrow(/"nope"/);
  });
});
