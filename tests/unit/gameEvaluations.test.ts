import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tasksDir } from '../../lib/home.js';
import { evaluate, expectRejected, expectScored } from '../helpers/evaluationChecks.js';

// The three games' evaluation scripts (MLGym-Bench's opponents, payoffs and rules), run on the host's
// python3 as the grader runs them.

/** Python run in a task's folder (the opponent's module importable), printing one JSON value. */
function inTaskFolder(taskId: string, program: string): unknown {
  const run = spawnSync('python3', ['-c', program], { cwd: join(tasksDir, taskId), encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

// Fewer games than the default 10,000 (the grader never sets MLGYM_GAMES): the full evaluation of each
// starter against MLGym's recorded baseline is in tests/integration/starterBaselines.test.ts.
const FEW_GAMES = { MLGYM_GAMES: '1000' };
const playing = (body: string) => ({ 'strategy.py': `def row_strategy(history):\n    ${body}\n` });

describe('prisonersDilemma evaluation', () => {
  const id = 'prisonersDilemma';
  it("plays MLGym's opponent: it redraws one of 11 characters every round, 4 of which defect in round 1", () => {
    const rates = inTaskFolder(id, `import json, random, target
random.seed(1)
n = 44000
first = sum(target.target_column_strategy([]) for _ in range(n)) / n
# after mutual cooperation: always-defect, the two coin flips and the mixed character (1/6 + 1/10) may defect
later = sum(target.target_column_strategy([(0, 0), (0, 0)]) for _ in range(n)) / n
print(json.dumps([len(target.CHARACTERS), first, later]))`) as number[];
    expect(rates[0]).toBe(11);
    expect(Math.abs(rates[1]! - 4 / 11)).toBeLessThan(0.01);
    expect(Math.abs(rates[2]! - (1 + 0.5 + 0.5 + 0.1667 + 0.1) / 11)).toBeLessThan(0.01);
  });
  it('scores always-defect near its known value against that opponent (about 2.62)', () => {
    const score = expectScored(evaluate(id, playing('return 1'), 'test', FEW_GAMES), 'Score').Score!;
    expect(score).toBeGreaterThan(2.57);
    expect(score).toBeLessThan(2.67);
  });
  it('rejects other moves than 0 and 1', () => expectRejected(evaluate(id, playing('return True')), /must return 0 or 1, returned True/));
});

describe('battleOfSexes evaluation', () => {
  const id = 'battleOfSexes';
  it("plays MLGym's opponent: 1 first, then the row player's first move with probability 0.8", () => {
    const rates = inTaskFolder(id, `import json, random, target
random.seed(1)
n = 20000
print(json.dumps([target.target_column_strategy([]), sum(target.target_column_strategy([(0, 1), (1, 0)]) == 0 for _ in range(n)) / n]))`) as number[];
    expect(rates[0]).toBe(1);
    expect(Math.abs(rates[1]! - 0.8)).toBeLessThan(0.015);
  });
  it('scores always-0, the honest optimum, near (0 + 9 * 1.6) / 10 = 1.44', () => {
    const score = expectScored(evaluate(id, playing('return 0'), 'test', FEW_GAMES), 'Score').Score!;
    expect(Math.abs(score - 1.44)).toBeLessThan(0.03);
  });
  it('rejects a missing strategy.py', () => expectRejected(evaluate(id, {}), /strategy\.py not found/));
  it('rejects a strategy.py that raises on import', () =>
    expectRejected(evaluate(id, { 'strategy.py': 'x = 1 / 0\n' }), /importing strategy\.py raised ZeroDivisionError/));
  it('rejects a strategy.py without row_strategy', () =>
    expectRejected(evaluate(id, { 'strategy.py': 'def strategy(history):\n    return 0\n' }), /does not define a function row_strategy/));
  it('rejects a row_strategy that raises', () =>
    expectRejected(evaluate(id, { 'strategy.py': 'def row_strategy(history):\n    return history[-1][1]\n' }), /row_strategy raised IndexError/));
  it('keeps the result out of reach of strategy code that prints a score and exits', () => {
    const fake = 'print(\'{"Score": 2.0}\', flush=True)\n';
    expectRejected(evaluate(id, { 'strategy.py': `import sys\n${fake}sys.exit(0)\n` }), /importing strategy\.py raised SystemExit: 0/);
    expectRejected(evaluate(id, { 'strategy.py': `import sys\ndef row_strategy(history):\n    ${fake}    sys.exit(0)\n` }), /row_strategy raised SystemExit: 0/);
    // The strategy runs in a process of its own: ending it is an evaluation error, never a result.
    expectRejected(
      evaluate(id, { 'strategy.py': `import os\ndef row_strategy(history):\n    ${fake}    os._exit(0)\n` }),
      /^the process of strategy\.py exited \(status 0\) during call 1; row_strategy must return, not exit$/,
    );
  });
  it('rejects NaN and other moves than 0 and 1', () => {
    expectRejected(evaluate(id, { 'strategy.py': 'def row_strategy(history):\n    return float("nan")\n' }), /must return 0 or 1, returned nan/);
    expectRejected(evaluate(id, { 'strategy.py': 'def row_strategy(history):\n    return 2\n' }), /must return 0 or 1, returned 2/);
    expectRejected(evaluate(id, { 'strategy.py': 'def row_strategy(history):\n    return [0]\n' }), /must return 0 or 1, returned \[0\]/);
  });
});

describe('blotto evaluation', () => {
  const id = 'blotto';
  const returning = (value: string) => playing(`return ${value}`);
  it("plays MLGym's opponent: a fresh random allocation of exactly 120 soldiers on 6 battlefields", () => {
    const seen = inTaskFolder(id, `import json, random, target
random.seed(1)
draws = [target.target_column_strategy([]) for _ in range(5000)]
print(json.dumps([sorted({len(d) for d in draws}), sorted({sum(d) for d in draws}), min(min(d) for d in draws), max(max(d) for d in draws), sum(d[0] for d in draws) / len(draws)]))`) as number[][];
    expect(seen.slice(0, 3)).toEqual([[6], [120], 0]);
    expect(seen[3]).toBeGreaterThan(60);
    expect(Math.abs((seen[4] as unknown as number) - 20)).toBeLessThan(1);
  });
  it('accepts fewer than 120 soldiers, as MLGym does, and scores an even split above the random starter', () => {
    const score = expectScored(evaluate(id, returning('[20, 20, 20, 20, 20, 19]'), 'test', { MLGYM_GAMES: '200' }), 'Score').Score!;
    expect(score).toBeGreaterThan(-0.2);
  });
  it("rejects allocations of the wrong length (MLGym's loophole: [120] won every round)", () => {
    expectRejected(evaluate(id, returning('[120]')), /6 numbers \(one per battlefield\), returned 1/);
    expectRejected(evaluate(id, returning('[24, 24, 24, 24, 24]')), /6 numbers \(one per battlefield\), returned 5/);
    expectRejected(evaluate(id, returning('[20] * 7')), /returned 7/);
  });
  it('rejects NaN, fractions, negative numbers and more than 120 soldiers', () => {
    expectRejected(evaluate(id, returning('[float("nan"), 20, 20, 20, 20, 20]')), /whole number of soldiers, got nan/);
    expectRejected(evaluate(id, returning('[20.5, 19.5, 20, 20, 20, 20]')), /whole number of soldiers, got 20\.5/);
    expectRejected(evaluate(id, returning('[-10, 30, 25, 25, 25, 25]')), /must be non-negative, got -10/);
    expectRejected(evaluate(id, returning('[20, 20, 20, 20, 20, 21]')), /at most 120 soldiers, .* uses 121/);
  });
  it('rejects a result that is not a list', () => expectRejected(evaluate(id, returning('{"a": 120}')), /must return a list of 6 integers/));
});
