import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, repoRoot, taskFile, tasksDir } from '../../lib/home.js';
import { parseEvaluation } from '../../lib/sandbox/grader.js';
import { evaluateOnHost, type HostEvaluation } from '../helpers/hostEvaluation.js';

// The evaluation scripts run here as the grader runs them: `python3 evaluate.py` with cwd the task
// folder (evaluation script + private files), MLGYM_SPLIT and MLGYM_WORKSPACE set, on the host's
// python3 (they use the standard library only).

type Evaluation = HostEvaluation;

function evaluate(taskId: string, files: Record<string, string>, split: 'validation' | 'test' = 'validation', env: Record<string, string> = {}): Evaluation {
  return evaluateOnHost(taskId, files, split, env);
}

/** A rejected submission: exit 1, one JSON error line that matches, and the grader reads it as that error. */
function expectRejected(result: Evaluation, message: RegExp): void {
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(1);
  expect(Object.keys(result.output)).toEqual(['error']);
  expect(result.output.error).toMatch(message);
  expect(parseEvaluation(result.stdout, result.stderr, result.exitCode!, { primary_metric: 'x' })).toEqual({ ok: false, error: result.output.error });
}

function expectScored(result: Evaluation, primary: string): Record<string, number> {
  expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  const parsed = parseEvaluation(result.stdout, result.stderr, 0, { primary_metric: primary });
  expect(parsed.ok).toBe(true);
  return (parsed as { metrics: Record<string, number> }).metrics;
}

const starter = (taskId: string, file: string) => readFileSync(join(tasksDir, taskId, file), 'utf8');
const recorded = (taskId: string) => loadTask(taskFile(taskId), datasetsDir).baseline_scores[0]!;

describe('prisonersDilemma evaluation', () => {
  it('scores the starter strategy at its recorded baseline on the test split', () => {
    expect(expectScored(evaluate('prisonersDilemma', { 'strategy.py': starter('prisonersDilemma', 'strategy.py') }, 'test'), 'Score')).toEqual(recorded('prisonersDilemma'));
  });
});

describe('battleOfSexes evaluation', () => {
  const id = 'battleOfSexes';
  it('scores the starter strategy at its recorded baseline on the test split', () => {
    expect(expectScored(evaluate(id, { 'strategy.py': starter(id, 'strategy.py') }, 'test'), 'Score')).toEqual(recorded(id));
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
  const returning = (value: string) => ({ 'strategy.py': `def row_strategy(history):\n    return ${value}\n` });
  it('scores the starter strategy at its recorded baseline on the test split', () => {
    expect(expectScored(evaluate(id, { 'strategy.py': starter(id, 'strategy.py') }, 'test'), 'Score')).toEqual(recorded(id));
  });
  it('rejects a missing strategy.py', () => expectRejected(evaluate(id, {}), /strategy\.py not found/));
  it('rejects a strategy.py that raises on import', () =>
    expectRejected(evaluate(id, { 'strategy.py': 'import not_a_module\n' }), /importing strategy\.py raised ModuleNotFoundError/));
  it('rejects a row_strategy that raises', () =>
    expectRejected(evaluate(id, { 'strategy.py': 'def row_strategy(history):\n    raise RuntimeError("boom")\n' }), /row_strategy raised RuntimeError: boom/));
  it('rejects allocations of the wrong length', () => {
    expectRejected(evaluate(id, returning('[24, 24, 24, 24, 24]')), /6 numbers \(one per battlefield\), returned 5/);
    expectRejected(evaluate(id, returning('[20] * 7')), /returned 7/);
  });
  it('rejects NaN, fractions, negative numbers and a wrong total', () => {
    expectRejected(evaluate(id, returning('[float("nan"), 20, 20, 20, 20, 20]')), /whole number of soldiers, got nan/);
    expectRejected(evaluate(id, returning('[20.5, 19.5, 20, 20, 20, 20]')), /whole number of soldiers, got 20\.5/);
    expectRejected(evaluate(id, returning('[-10, 30, 25, 25, 25, 25]')), /must be non-negative, got -10/);
    expectRejected(evaluate(id, returning('[20, 20, 20, 20, 20, 19]')), /exactly 120 soldiers, .* uses 119/);
  });
  it('rejects a result that is not a list', () => expectRejected(evaluate(id, returning('{"a": 120}')), /must return a list of 6 integers/));
});

describe('3SATTime evaluation', () => {
  const id = '3SATTime';
  const heuristic = (body: string) => ({ 'heuristic.py': body });
  it('scores the starter heuristic: every answer right, the recorded decisions', () => {
    const metrics = expectScored(evaluate(id, heuristic(starter(id, 'heuristic.py')), 'test'), 'Time');
    expect(Object.keys(metrics).sort()).toEqual(['Correct', 'Decisions', 'Time']);
    expect(metrics.Correct).toBe(1);
    expect(metrics.Decisions).toBe(recorded(id).Decisions);
    expect(metrics.Time).toBeGreaterThan(0);
  });
  it('rejects a missing heuristic.py', () => expectRejected(evaluate(id, {}), /heuristic\.py not found/));
  it('rejects a heuristic.py that raises on import or lacks heuristic_fn', () => {
    expectRejected(evaluate(id, heuristic('raise ValueError("bad module")\n')), /importing heuristic\.py raised ValueError: bad module/);
    expectRejected(evaluate(id, heuristic('def heuristic(clauses):\n    return 1, True\n')), /does not define a function heuristic_fn/);
  });
  it('rejects a heuristic_fn that exits, keeping its output out of the result', () =>
    expectRejected(
      evaluate(id, heuristic('import sys\ndef heuristic_fn(*args):\n    print(\'{"Time": 0.001, "Correct": 1, "Decisions": 1}\')\n    sys.exit(0)\n')),
      /instance 0: heuristic_fn raised SystemExit: 0/,
    ));
  it('rejects a heuristic_fn that raises', () =>
    expectRejected(evaluate(id, heuristic('def heuristic_fn(clauses, assignments, conflicts, history, level):\n    return {}[0]\n')), /instance 0: heuristic_fn raised KeyError/));
  it('rejects malformed choices: wrong length, NaN, an assigned or unknown variable', () => {
    const fn = (ret: string) => heuristic(`def heuristic_fn(clauses, assignments, conflicts, history, level):\n    return ${ret}\n`);
    expectRejected(evaluate(id, fn('abs(clauses[0][0]), True, 0')), /must return a \(variable, value\) pair/);
    expectRejected(evaluate(id, fn('abs(clauses[0][0]), float("nan")')), /returned value nan, expected True or False/);
    expectRejected(evaluate(id, fn('float("nan"), True')), /returned variable nan, expected an int/);
    expectRejected(evaluate(id, fn('999, True')), /variable 999, which is not an unassigned variable in 1\.\.30/);
  });
  it('stops a heuristic that takes too long', () => {
    const slow = heuristic('import time\ndef heuristic_fn(clauses, assignments, conflicts, history, level):\n    time.sleep(5)\n    return abs(clauses[0][0]), True\n');
    expectRejected(evaluate(id, slow, 'validation', { MLGYM_SAT_TIME_LIMIT_S: '1' }), /the solver ran for more than 1 s on the validation split; make heuristic_fn faster/);
  });
  it("keeps the grader's solver and instance sets out of the heuristic's reach", () => {
    // heuristic.py runs in a process of its own holding only heuristic.py: the solver, and so every answer, stays the grader's.
    expectRejected(evaluate(id, heuristic('import solver\ndef heuristic_fn(*args):\n    return 1, True\n')), /^importing heuristic\.py raised ModuleNotFoundError: No module named 'solver'$/);
    expectRejected(evaluate(id, heuristic('import instances\ndef heuristic_fn(*args):\n    return 1, True\n')), /^importing heuristic\.py raised ModuleNotFoundError: No module named 'instances'$/);
  });
});

const houseAnswers = join(tasksDir, 'regressionKaggleHousePrice', 'answers.csv');
const fmnistAnswers = join(tasksDir, 'imageClassificationFMnist', 'answers.csv');

function readRows(file: string): string[][] {
  return readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
}

describe('data prepared by scripts/prepare-data.sh', () => {
  it('exists (run `bash scripts/prepare-data.sh` or `npm run setup`)', () => {
    for (const file of [houseAnswers, fmnistAnswers, join(datasetsDir, 'local', 'housePrice', 'test.csv'), join(datasetsDir, 'local', 'fashion_mnist', 'test_images.npy')]) {
      expect(existsSync(file), `${file.replace(repoRoot + '/', '')} is missing`).toBe(true);
    }
  });
});

describe('regressionKaggleHousePrice evaluation', () => {
  const id = 'regressionKaggleHousePrice';
  let answers: { id: string; price: number; split: string }[] = [];
  beforeAll(() => {
    answers = readRows(houseAnswers).map(([rid, price, split]) => ({ id: rid!, price: Number(price), split: split! }));
  });
  const csv = (header: string, rows: string[]) => ({ 'submission.csv': [header, ...rows].join('\n') + '\n' });
  const rowsWith = (price: (a: { price: number; split: string }) => string) => answers.map((a) => `${a.id},${price(a)}`);

  it('has 293 validation and 586 test houses', () => {
    expect(answers.filter((a) => a.split === 'validation')).toHaveLength(293);
    expect(answers.filter((a) => a.split === 'test')).toHaveLength(586);
  });
  it('scores each split on its own rows', () => {
    const mean = answers.reduce((s, a) => s + a.price, 0) / answers.length;
    const submission = csv('Id,SalePrice', rowsWith((a) => String(a.split === 'validation' ? a.price : mean)));
    expect(expectScored(evaluate(id, submission, 'validation'), 'r2')).toEqual({ r2: 1, rmse: 0 });
    const test = expectScored(evaluate(id, submission, 'test'), 'r2');
    expect(test.r2).toBeLessThanOrEqual(0);
    expect(test.r2).toBeGreaterThan(-0.01);
  });
  it('accepts the columns in any order, with extra columns', () => {
    const submission = csv('SalePrice,note,Id', answers.map((a) => `${a.price},x,${a.id}`));
    expect(expectScored(evaluate(id, submission, 'test'), 'r2').r2).toBe(1);
  });
  it('rejects a missing or empty submission.csv', () => {
    expectRejected(evaluate(id, {}), /submission\.csv not found/);
    expectRejected(evaluate(id, { 'submission.csv': '' }), /submission\.csv is empty/);
  });
  it('rejects wrong columns', () => {
    expectRejected(evaluate(id, csv('Id,Price', rowsWith((a) => String(a.price)))), /needs the columns Id and SalePrice; missing SalePrice \(found: Id, Price\)/);
    expectRejected(evaluate(id, csv('id,SalePrice', rowsWith((a) => String(a.price)))), /missing Id/);
  });
  it('rejects NaN, infinite and non-numeric prices', () => {
    for (const bad of ['nan', 'NaN', 'inf', '']) {
      const rows = rowsWith((a) => String(a.price));
      rows[5] = `${answers[5]!.id},${bad}`;
      expectRejected(evaluate(id, csv('Id,SalePrice', rows)), bad === '' ? /line 7: SalePrice '' is not a number/ : /line 7: SalePrice is '.*'; every prediction must be a finite number/);
    }
    const rows = rowsWith((a) => String(a.price));
    rows[0] = `${answers[0]!.id},cheap`;
    expectRejected(evaluate(id, csv('Id,SalePrice', rows)), /line 2: SalePrice 'cheap' is not a number/);
  });
  it('rejects the wrong number of rows, duplicate and unknown Ids', () => {
    const testOnly = answers.filter((a) => a.split === 'test').map((a) => `${a.id},${a.price}`);
    expectRejected(evaluate(id, csv('Id,SalePrice', testOnly)), /has 586 predictions, expected 879: one per Id of validation\.csv and test\.csv; missing Ids include/);
    const rows = rowsWith((a) => String(a.price));
    expectRejected(evaluate(id, csv('Id,SalePrice', [...rows, rows[0]!])), /Id \d+ appears more than once/);
    const trainId = [...Array(3000).keys()].map((i) => String(i + 1)).find((i) => !answers.some((a) => a.id === i))!;
    expectRejected(evaluate(id, csv('Id,SalePrice', [...rows.slice(1), `${trainId},100000`])), new RegExp(`Id ${trainId} is not in validation\\.csv or test\\.csv`));
    expectRejected(evaluate(id, csv('Id,SalePrice', [...rows, '1,2,3'])), /3 fields, the header has 2/);
  });
});

describe('imageClassificationFMnist evaluation', () => {
  const id = 'imageClassificationFMnist';
  let answers: { label: string; split: string }[] = [];
  beforeAll(() => {
    answers = readRows(fmnistAnswers).map(([, label, split]) => ({ label: label!, split: split! }));
  });
  const labels = (values: string[], header = 'label') => ({ 'submission.csv': [header, ...values].join('\n') + '\n' });

  it('splits the 10,000 test images 5,000/5,000 into validation and test', () => {
    expect(answers).toHaveLength(10_000);
    expect(answers.filter((a) => a.split === 'validation')).toHaveLength(5000);
  });
  it('scores each split on its own images', () => {
    const submission = labels(answers.map((a) => (a.split === 'validation' ? a.label : String((Number(a.label) + 1) % 10))));
    expect(expectScored(evaluate(id, submission, 'validation'), 'accuracy')).toEqual({ accuracy: 1 });
    expect(expectScored(evaluate(id, submission, 'test'), 'accuracy')).toEqual({ accuracy: 0 });
  });
  it('scores the sample submission (all zeros) at about chance', () => {
    const sample = readFileSync(join(tasksDir, id, 'sample_submission.csv'), 'utf8');
    const accuracy = expectScored(evaluate(id, { 'submission.csv': sample }, 'test'), 'accuracy').accuracy!;
    expect(accuracy).toBeGreaterThan(0.08);
    expect(accuracy).toBeLessThan(0.12);
  });
  it('accepts labels written as floats and extra columns', () => {
    const submission = labels(answers.map((a, i) => `${i},${a.label}.0`), 'id,label');
    expect(expectScored(evaluate(id, submission, 'test'), 'accuracy')).toEqual({ accuracy: 1 });
  });
  it('rejects a missing submission.csv', () => expectRejected(evaluate(id, {}), /submission\.csv not found/));
  it('rejects a submission without a label column', () =>
    expectRejected(evaluate(id, labels(answers.map((a) => a.label), 'prediction')), /needs a column named label \(found: prediction\)/));
  it('rejects the wrong number of rows', () => {
    expectRejected(evaluate(id, labels(answers.slice(1).map((a) => a.label))), /has 9999 rows, expected 10000/);
    expectRejected(evaluate(id, labels(answers.filter((a) => a.split === 'test').map((a) => a.label))), /has 5000 rows, expected 10000/);
  });
  it('rejects NaN, out-of-range and fractional labels', () => {
    for (const [bad, message] of [
      ['nan', /line 4: label 'nan' is not a class number 0-9/],
      ['10', /line 4: label '10' is not a class number 0-9/],
      ['-1', /line 4: label '-1' is not a class number 0-9/],
      ['2.5', /line 4: label '2\.5' is not a class number 0-9/],
      ['shirt', /line 4: label 'shirt' is not a number/],
    ] as const) {
      const values = answers.map((a) => a.label);
      values[2] = bad;
      expectRejected(evaluate(id, labels(values)), message);
    }
  });
});
