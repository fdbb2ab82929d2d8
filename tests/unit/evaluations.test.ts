import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, repoRoot, taskFile, tasksDir } from '../../lib/home.js';
import { evaluate, expectRejected, expectScored } from '../helpers/evaluationChecks.js';
import { evaluateOnHost } from '../helpers/hostEvaluation.js';

// The evaluation scripts run here as the grader runs them: `python3 evaluate.py` with cwd the task
// folder (evaluation script + private files), MLGYM_SPLIT and MLGYM_WORKSPACE set, on the host's
// python3 (they use the standard library only). The games and 3SATTime are in gameEvaluations.test.ts
// and satEvaluation.test.ts (separate files run in parallel).

const houseAnswers = join(tasksDir, 'regressionKaggleHousePrice', 'answers.csv');
const fmnistAnswers = join(datasetsDir, 'local', 'fashion_mnist.private', 'answers.csv');

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

  // The generated Ames data by default, Kaggle's after `mlgym prepare regressionKaggleHousePrice --from train.csv`.
  it('has an answer for exactly the validation and test houses the agent is given', () => {
    const publicIds = (file: string) => readRows(join(datasetsDir, 'local', 'housePrice', file)).map((r) => r[0]).sort();
    const answered = (split: string) => answers.filter((a) => a.split === split).map((a) => a.id).sort();
    expect(answered('validation')).toEqual(publicIds('validation.csv'));
    expect(answered('test')).toEqual(publicIds('test.csv'));
    expect(answered('validation').length).toBeGreaterThan(0);
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
  it('matches rows by Id, not by position as MLGym does: reordered rows score the same', () => {
    const rows = answers.map((a) => `${a.id},${Math.round(a.price * (1 + ((Number(a.id) % 7) - 3) / 50))}`);
    const inOrder = expectScored(evaluate(id, csv('Id,SalePrice', rows), 'test'), 'r2');
    expect(inOrder.r2).toBeGreaterThan(0.9);
    expect(inOrder.r2).toBeLessThan(1);
    expect(expectScored(evaluate(id, csv('Id,SalePrice', [...rows].reverse()), 'test'), 'r2')).toEqual(inOrder);
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
    expectRejected(evaluate(id, csv('Id,SalePrice', testOnly)), new RegExp(`has ${testOnly.length} predictions, expected ${answers.length}: one per Id of validation\\.csv and test\\.csv; missing Ids include`));
    const rows = rowsWith((a) => String(a.price));
    expectRejected(evaluate(id, csv('Id,SalePrice', [...rows, rows[0]!])), /Id \d+ appears more than once/);
    const trainId = [...Array(3000).keys()].map((i) => String(i + 1)).find((i) => !answers.some((a) => a.id === i))!;
    expectRejected(evaluate(id, csv('Id,SalePrice', [...rows.slice(1), `${trainId},100000`])), new RegExp(`Id ${trainId} is not in validation\\.csv or test\\.csv`));
    expectRejected(evaluate(id, csv('Id,SalePrice', [...rows, '1,2,3'])), /3 fields, the header has 2/);
  });
});

/** The shape in a .npy file's header. */
function npyShape(file: string): number[] {
  const bytes = readFileSync(file);
  const header = bytes.subarray(10, 10 + bytes.readUInt16LE(8)).toString('latin1');
  return header.match(/'shape': \(([^)]*)\)/)![1]!.split(',').map((d) => d.trim()).filter(Boolean).map(Number);
}

/**
 * The evaluation of the image-classification tasks: one label per image of test_images.npy, which holds
 * the official test images (scored whole on submit, as MLGym does) and then the validation images held
 * out from the training set. `data` picks the answers: the prepared real data or the generated fixture.
 */
function describeClassification(id: string, data: 'real' | 'fixture', counts: { test: number; validation: number }) {
  const answersFile = join(datasetsDir, data === 'real' ? 'local' : 'fixtures', `${loadTask(taskFile(id), datasetsDir).datasets[0]!.name}.private`, 'answers.csv');
  const total = counts.test + counts.validation;
  let answers: { label: string; split: string }[] = [];
  beforeAll(() => {
    answers = readRows(answersFile).map(([, label, split]) => ({ label: label!, split: split! }));
  });
  const run = (files: Record<string, string>, split: 'validation' | 'test' = 'validation') => evaluateOnHost(id, files, split, {}, data);
  const labels = (values: string[], header = 'label') => ({ 'submission.csv': [header, ...values].join('\n') + '\n' });
  const wrong = (label: string) => String((Number(label) + 1) % 10);

  it(`answers the ${counts.test} test images in their order, then the ${counts.validation} validation images`, () => {
    expect(answers.map((a) => a.split)).toEqual([...Array(counts.test).fill('test'), ...Array(counts.validation).fill('validation')]);
  });
  it('scores submit on every test image and validate on the validation images only', () => {
    const rightOnValidation = labels(answers.map((a) => (a.split === 'validation' ? a.label : wrong(a.label))));
    expect(expectScored(run(rightOnValidation, 'validation'), 'accuracy')).toEqual({ accuracy: 1 });
    expect(expectScored(run(rightOnValidation, 'test'), 'accuracy')).toEqual({ accuracy: 0 });
    const oneTestImageWrong = labels(answers.map((a, i) => (i === counts.test - 1 ? wrong(a.label) : a.label)));
    expect(expectScored(run(oneTestImageWrong, 'test'), 'accuracy')).toEqual({ accuracy: Number((1 - 1 / counts.test).toFixed(6)) });
  });
  it('accepts labels written as floats and extra columns', () => {
    expect(expectScored(run(labels(answers.map((a, i) => `${i},${a.label}.0`), 'id,label'), 'test'), 'accuracy')).toEqual({ accuracy: 1 });
  });
  it('rejects a missing submission.csv, a missing label column and the wrong number of rows', () => {
    expectRejected(run({}), /submission\.csv not found/);
    expectRejected(run(labels(answers.map((a) => a.label), 'prediction')), /needs a column named label \(found: prediction\)/);
    expectRejected(run(labels(answers.slice(1).map((a) => a.label))), new RegExp(`has ${total - 1} rows, expected ${total}`));
    // MLGym's submission (test images only) lacks the validation images' rows.
    expectRejected(run(labels(answers.slice(0, counts.test).map((a) => a.label))), new RegExp(`has ${counts.test} rows, expected ${total}`));
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
      expectRejected(run(labels(values)), message);
    }
  });
}

describe('imageClassificationFMnist evaluation (the real Fashion-MNIST)', () => {
  describeClassification('imageClassificationFMnist', 'real', { test: 10_000, validation: 5_000 });
  it("holds the validation images out of the agent's training data", () => {
    const dir = join(datasetsDir, 'local', 'fashion_mnist');
    expect(npyShape(join(dir, 'train_images.npy'))).toEqual([55_000, 28, 28]);
    expect(npyShape(join(dir, 'train_labels.npy'))).toEqual([55_000]);
    expect(npyShape(join(dir, 'test_images.npy'))).toEqual([15_000, 28, 28]);
    const image = 28 * 28;
    const pixels = (file: string) => { const b = readFileSync(join(dir, file)); return b.subarray(10 + b.readUInt16LE(8)); };
    const train = pixels('train_images.npy');
    const seen = new Set<string>();
    for (let i = 0; i < 55_000; i++) seen.add(train.subarray(i * image, (i + 1) * image).toString('base64'));
    const predicted = pixels('test_images.npy');
    const inTraining = [...Array(15_000).keys()].filter((i) => seen.has(predicted.subarray(i * image, (i + 1) * image).toString('base64')));
    expect(inTraining).toEqual([]);
  });
  it('scores all zeros at chance, exactly (the test split has 1,000 images of each class)', () => {
    const accuracy = expectScored(evaluateOnHost('imageClassificationFMnist', { 'submission.csv': ['label', ...Array(15_000).fill('0')].join('\n') }, 'test'), 'accuracy').accuracy!;
    expect(accuracy).toBe(0.1);
  });
});

describe('imageClassificationFMnist evaluation (fixture)', () => {
  describeClassification('imageClassificationFMnist', 'fixture', { test: 200, validation: 200 });
});

describe('imageClassificationCifar10 evaluation (fixture; the real data need `mlgym prepare`)', () => {
  describeClassification('imageClassificationCifar10', 'fixture', { test: 200, validation: 200 });
});

