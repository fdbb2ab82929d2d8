import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile, tasksDir } from '../../lib/home.js';
import { parseEvaluation } from '../../lib/sandbox/grader.js';
import { evaluateOnHost } from '../helpers/hostEvaluation.js';

/**
 * Each game's starter strategy under MLGym-Bench's semantics (the full default: 10,000 games of 10
 * rounds against MLGym's opponent) scores our recorded baseline exactly (the split's seed fixes it), and
 * MLGym's recorded baseline (configs/tasks/<task>.yaml, see ../shared/reference/mlgym-tasks.md) within
 * three times the noise we measured (the spread over 20 evaluation seeds, task.yaml's baseline_noise).
 * Integration tier, not unit: each evaluation makes 100,000 sandboxed calls.
 */
const MLGYM_BASELINE: Record<string, number> = {
  prisonersDilemma: 2.3716301918,
  battleOfSexes: 1.0226699114,
  blotto: -0.2479700148,
};

describe("the game tasks' starter strategies against MLGym's recorded baselines", () => {
  for (const [id, mlgym] of Object.entries(MLGYM_BASELINE)) {
    it(`${id}: our recorded baseline exactly, and MLGym's ${mlgym.toFixed(4)} within 3 x the measured noise`, () => {
      const task = loadTask(taskFile(id), datasetsDir);
      const run = evaluateOnHost(id, { 'strategy.py': readFileSync(join(tasksDir, id, 'strategy.py'), 'utf8') }, 'test');
      const parsed = parseEvaluation(run.stdout, run.stderr, run.exitCode ?? 1, { primary_metric: 'Score' });
      expect(parsed.ok, run.stdout + run.stderr).toBe(true);
      const score = (parsed as { metrics: Record<string, number> }).metrics.Score!;
      expect(score).toBe(task.baseline_scores[0]!.Score);
      const noise = task.baseline_noise.Score!;
      expect(noise).toBeGreaterThan(0);
      expect(Math.abs(score - mlgym), `ours ${score}, MLGym's ${mlgym}, noise ${noise}`).toBeLessThanOrEqual(3 * noise);
    });
  }
});

describe("3SATTime's starter heuristic on the offline test split (MLGym's set is not available to compare with)", () => {
  it('solves every instance, with exactly our recorded decisions; Time depends on the machine', () => {
    const id = '3SATTime';
    const task = loadTask(taskFile(id), datasetsDir);
    const run = evaluateOnHost(id, { 'heuristic.py': readFileSync(join(tasksDir, id, 'heuristic.py'), 'utf8') }, 'test');
    const parsed = parseEvaluation(run.stdout, run.stderr, run.exitCode ?? 1, { primary_metric: 'Time' });
    expect(parsed.ok, run.stdout + run.stderr).toBe(true);
    const metrics = (parsed as { metrics: Record<string, number> }).metrics;
    expect(Object.keys(metrics).sort()).toEqual(['Correct', 'Decisions', 'Incorrect', 'Time']);
    const { Time: _time, ...deterministic } = task.baseline_scores[0]!;
    expect(metrics).toMatchObject(deterministic);
    expect(metrics.Time).toBeGreaterThan(0);
  });
});
