import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadTask, missingTaskFiles, placedName } from '../../lib/config/load.js';
import { datasetsDir, repoRoot } from '../../lib/home.js';
import { isMlgymTask } from '../../lib/interop/mlgymTask.js';
import { directionByName, MLGYM_TASK_METRICS } from '../../lib/interop/mlgymTasks.js';
import { mlgym } from '../helpers/cli.js';

// tests/fixtures/mlgym: an MLGym checkout's configs/ (the 13 MLGym-Bench task YAMLs and 7 dataset YAMLs,
// written for these tests from the facts in shared/reference, not copied) with a minimal data/<task>/,
// and folder/: an MLGym task folder of our own making (tests/integration/mlgymFolder.test.ts runs it).
const fixtures = join(repoRoot, 'tests', 'fixtures', 'mlgym');
const checkout = join(fixtures, 'checkout');
const taskYamls = readdirSync(join(checkout, 'configs', 'tasks')).map((f) => join(checkout, 'configs', 'tasks', f));
const datasetYamls = readdirSync(join(checkout, 'configs', 'datasets')).map((f) => join(checkout, 'configs', 'datasets', f));

interface CheckJson {
  file: string;
  kind: string;
  valid: boolean;
  mlgym?: { layout: string; root: string; metricsFrom: { from: string; bench?: string }; metrics: { name: string; direction: string }[]; primary_metric: string; missing: { field: string; path: string }[] };
}

async function check(file: string): Promise<CheckJson> {
  const r = await mlgym({}, 'check', file, '--json');
  expect(r.status, `${file}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as CheckJson;
}

function write(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** The YAMLs of the checkout copied into one folder, as a user copies MLGym's configs; with its data/ folder or without. */
function flatCopy(withData: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlgym-flat-'));
  for (const file of [...taskYamls, ...datasetYamls]) cpSync(file, join(dir, basename(file)));
  if (withData) cpSync(join(checkout, 'data'), join(dir, 'data'), { recursive: true });
  return dir;
}

describe("MLGym's configs with mlgym check", () => {
  it('has the 13 MLGym-Bench tasks and their 7 datasets', () => {
    expect(taskYamls).toHaveLength(13);
    expect(datasetYamls).toHaveLength(7);
    const ids = taskYamls.map((f) => (parseYaml(readFileSync(f, 'utf8')) as { id: string }).id).sort();
    expect(ids).toEqual(Object.keys(MLGYM_TASK_METRICS).sort());
  });

  it("loads every task YAML in MLGym's checkout layout, with the metrics MLGym keeps in code and nothing missing", async () => {
    for (const file of taskYamls) {
      const out = await check(file);
      const id = (parseYaml(readFileSync(file, 'utf8')) as { id: string }).id;
      const known = MLGYM_TASK_METRICS[id]!;
      expect(out).toMatchObject({ kind: 'task', valid: true, mlgym: { layout: 'checkout', root: checkout, metricsFrom: { from: 'bench' }, primary_metric: known.primary.name, missing: [] } });
      expect(out.mlgym!.metrics).toEqual([known.primary, ...known.others]);
    }
  });

  it('loads every dataset YAML, in the checkout and copied flat', async () => {
    const flat = flatCopy(false);
    for (const file of [...datasetYamls, ...datasetYamls.map((f) => join(flat, basename(f)))]) expect(await check(file)).toEqual({ file, kind: 'dataset', valid: true });
  });

  it('loads every task YAML copied flat without its data/ folder, listing the files a run needs', async () => {
    const flat = flatCopy(false);
    for (const file of taskYamls.map((f) => join(flat, basename(f)))) {
      const out = await check(file);
      expect(out.mlgym).toMatchObject({ layout: 'flat', root: flat, metricsFrom: { from: 'bench' } });
      const starter = (parseYaml(readFileSync(file, 'utf8')) as { starter_code: string[] }).starter_code;
      // Paths as MLGym writes them: relative to the folder the YAML was copied to.
      expect(out.mlgym!.missing.filter((m) => m.field.startsWith('starter_code')).map((m) => m.path)).toEqual(starter);
    }
    const r = await mlgym({}, 'check', join(flat, 'regressionKaggleHousePrice.yaml'));
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("metrics from MLGym-Bench's table: r2 (max, primary), rmse (min)");
    expect(r.stderr).toContain("not there: starter_code[0] data/regressionKaggleHousePrice/baseline.py; a run needs it (put the MLGym checkout's data/ folder beside the YAML)");
  });

  it('loads every task YAML copied flat with its data/ folder, complete', async () => {
    const flat = flatCopy(true);
    for (const file of taskYamls.map((f) => join(flat, basename(f)))) expect((await check(file)).mlgym).toMatchObject({ layout: 'flat', missing: [] });
  });

  it('still refuses a task of ours with a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ours-'));
    const file = write(join(dir, 't', 'task.yaml'), 'id: t\nname: T\ndescription: d\nevaluation_paths: [evaluate.py]\nmetrics: [{ name: Score, direction: max }]\nprimary_metric: Score\n');
    const r = await mlgym({}, 'check', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('evaluation_paths[0]: expected a file');
  });
});

describe('MLGym task YAMLs as runs use them', () => {
  const load = (file: string) => loadTask(file, datasetsDir);
  const inCheckout = (id: string) => load(taskYamls.find((f) => basename(f) === `${id}.yaml`)!);

  it("declares the metrics MLGym's YAMLs name in baseline_scores: 3SATTime's Incorrect, the RL tasks' Reward Std", () => {
    expect(inCheckout('3SATTime').metrics.map((m) => [m.name, m.direction])).toEqual([
      ['Time', 'min'],
      ['Correct', 'max'],
      ['Incorrect', 'min'],
      ['Decisions', 'min'],
    ]);
    const rl = inCheckout('rlMetaMaze');
    expect(rl.id).toBe('rlMetaMazeMisc');
    expect(rl.baseline_scores).toEqual([{ 'Reward Mean': 15.734375, 'Reward Std': 16.3121318817 }]);
    expect(rl.metrics).toEqual([
      { name: 'Reward Mean', direction: 'max' },
      { name: 'Reward Std', direction: 'min' },
    ]);
  });

  it('gives datasets named with spaces a folder name, fills {dataset_docs} with their names as written, and places local data where MLGym does', () => {
    const house = inCheckout('regressionKaggleHousePrice');
    expect(house.datasets).toHaveLength(1);
    expect(house.datasets[0]).toMatchObject({ name: 'Kaggle_House_Prices', title: 'Kaggle House Prices', workspaceDir: 'data', dataDir: join(checkout, 'data/regressionKaggleHousePrice/data') });
    expect(house.description).toContain('Kaggle House Prices:\nAmes housing sales');
    expect(house.description).not.toContain('{dataset_docs}');
    expect(inCheckout('languageModelingFineWeb').datasets[0]).toMatchObject({ name: 'FineWeb_10B_GPT-2_tokens', title: 'FineWeb 10B (GPT-2 tokens)' });
    const fmnist = inCheckout('imageClassificationFMnist').datasets[0]!;
    expect(fmnist).toMatchObject({ name: 'Fashion_MNIST', data_path: 'zalando-datasets/fashion_mnist', is_local: false, dataDir: undefined });
    // Our own tasks' data still lands in data/<name>/.
    expect(loadTask(join(repoRoot, 'tasks/regressionKaggleHousePrice/task.yaml'), datasetsDir).datasets[0]!.workspaceDir).toMatch(/^data\/\w+$/);
  });

  it("lands starter code in the workspace by base name, as MLGym copies it, and the evaluation script from the task's files", () => {
    const house = inCheckout('regressionKaggleHousePrice');
    expect(house.starter_code.map(placedName)).toEqual(['baseline.py', 'evaluate.py']);
    expect(house.evaluation_paths).toEqual(['../../data/regressionKaggleHousePrice/evaluate.py']);
    expect(house.submission_artifact).toBe('submission.csv');
    expect(house.memory_path).toBe('../../data/regressionKaggleHousePrice/memory.json');
    expect(house.mlgym).toEqual({ layout: 'checkout', root: checkout, metrics: { from: 'bench' } });
    const mnli = inCheckout('naturalLanguageInferenceMNLI');
    expect(mnli.starter_code.map(placedName)).toEqual(['baseline.py', 'evaluate.py']);
    expect(mnli.evaluation_paths).toEqual(['../../data/bertMNLI/evaluate.py']);
    expect(mnli.submission_artifact).toBeUndefined();
    const rl = inCheckout('rlBreakoutMinAtar');
    expect(rl.starter_code.map(placedName)).toEqual(['src', 'evaluate.py']);
    expect(rl).toMatchObject({ use_generic_conda: false, requirements_path: '../../data/rlBreakoutMinAtar/requirements.txt', task_entrypoint: 'ModelSubmissionTasks', training_timeout: 1800 });
    expect(inCheckout('imageCaptioningCOCO')).toMatchObject({ requirements_path: '../../data/imageCaptioningCOCO/requirements.txt', sample_submission: '../../data/imageCaptioningCOCO/sample_submission.csv', training_timeout: 2400 });
    for (const id of ['prisonersDilemma', 'battleOfSexes', 'blotto', '3SATTime']) expect(inCheckout(id).submission_artifact).toBeUndefined();
    const flat = flatCopy(true);
    const copied = load(join(flat, 'regressionKaggleHousePrice.yaml'));
    expect(copied.starter_code.map(placedName)).toEqual(['baseline.py', 'evaluate.py']);
    expect(copied.starter_code.map((p) => resolve(copied.dir, p))).toEqual([join(flat, 'data/regressionKaggleHousePrice/baseline.py'), join(flat, 'data/regressionKaggleHousePrice/evaluate.py')]);
    expect(copied.datasets[0]!.file).toBe(join(flat, 'kaggleHousePrice.yaml'));
  });

  it("never takes a dataset config of this repository for an MLGym task's", () => {
    // datasets/coco.yaml exists in this repository; the MLGym task copied alone must not pick it up.
    const dir = mkdtempSync(join(tmpdir(), 'alone-'));
    const file = join(dir, 'imageCaptioningCOCO.yaml');
    cpSync(taskYamls.find((f) => basename(f) === 'imageCaptioningCOCO.yaml')!, file);
    expect(() => loadTask(file, datasetsDir, { allowMissingFiles: true })).toThrow(/dataset_configs\[0\]: expected an existing dataset config, looked in .*alone-.*datasets\/coco\.yaml$/m);
  });

  it('runs an MLGym task folder of our own making: its YAML beside data/<task>/, with secret files for the grader alone', () => {
    const folder = join(fixtures, 'folder');
    const task = load(join(folder, 'rentPrediction.yaml'));
    expect(task.mlgym).toEqual({ layout: 'flat', root: folder, metrics: { from: 'name' } });
    expect(task.metrics).toEqual([{ name: 'rmse', direction: 'min' }]);
    expect(task.primary_metric).toBe('rmse');
    expect(task.starter_code.map(placedName)).toEqual(['baseline.py', 'evaluate.py', 'train.csv', 'test.csv', 'sample_submission.csv']);
    expect(task.evaluation_paths.map(placedName)).toEqual(['evaluate.py']);
    expect(task.private_files.map(placedName)).toEqual(['answer.csv']);
    expect(task.starter_code.map(placedName)).not.toContain('answer.csv');
    expect(task.submission_artifact).toBe('submission.csv');
    expect(missingTaskFiles(task)).toEqual([]);
  });
});

describe("an MLGym task's metrics", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlgym-metrics-'));
  const yaml = (id: string, baseline: string, extra = '') =>
    write(join(dir, `${id}.yaml`), `id: ${id}\nname: ${id}\ndescription: d\nstarter_code: [data/${id}/evaluate.py]\nevaluation_paths: [evaluate.py]\n${baseline ? `baseline_scores:\n  - ${baseline}\n` : ''}${extra}`);
  const problems = (file: string) => {
    try {
      loadTask(file, datasetsDir, { allowMissingFiles: true });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('come from the name of a single baseline metric when it tells the direction (a task outside MLGym-Bench, e.g. titanic)', () => {
    const task = loadTask(yaml('titanicSurvival', 'Accuracy: 0.76555'), datasetsDir, { allowMissingFiles: true });
    expect(task).toMatchObject({ metrics: [{ name: 'Accuracy', direction: 'max' }], primary_metric: 'Accuracy', mlgym: { metrics: { from: 'name' } } });
  });

  it("of a variant of a bench task are the bench task's", () => {
    const task = loadTask(yaml('rlMountainCarContinuousReinforce', "{ 'Reward Mean': 10, 'Reward Std': 3 }"), datasetsDir, { allowMissingFiles: true });
    expect(task.mlgym!.metrics).toEqual({ from: 'variant', bench: 'rlMountainCarContinuous' });
    expect(task.primary_metric).toBe('Reward Mean');
  });

  it("of a task reporting a bench task's metrics are that task's (MLGym's older house price configs)", () => {
    const task = loadTask(yaml('regressionHousePrice', 'rmse: 30000\n    r2: 0.88'), datasetsDir, { allowMissingFiles: true });
    expect(task.mlgym!.metrics).toEqual({ from: 'same metrics', bench: 'regressionKaggleHousePrice' });
    expect(task).toMatchObject({ primary_metric: 'r2', metrics: [{ name: 'r2', direction: 'max' }, { name: 'rmse', direction: 'min' }] });
  });

  it('are asked for when they cannot be told, with a suggested fix that gives each known metric its true direction', () => {
    const [problem] = problems(yaml('houseVariant2', 'rmse: 30000\n    mae: 20000\n    r2: 0.88'));
    expect(problem!.path).toBe('metrics');
    expect(problem!.message).toContain('metrics: [{ name: rmse, direction: min }, { name: mae, direction: min }, { name: r2, direction: max }]');
    expect(problem!.message).toContain('primary_metric: <the one that ranks attempts: rmse or mae or r2>');
    const [odd] = problems(yaml('oddTask', 'Wins: 3'));
    expect(odd!.message).toContain('metrics: [{ name: Wins, direction: max or min }] and primary_metric: Wins; for Wins write max if higher is better, min if lower is');
    const [none] = problems(yaml('noBaseline', ''));
    expect(none!.message).toContain('{ name: <metric>, direction: max or min }');
  });

  it('may be added to the YAML: paths stay translated as MLGym writes them', () => {
    const file = yaml('myCsvTask', 'f1: 0.5\n    loss: 2', 'metrics: [{ name: f1, direction: max }, { name: loss, direction: min }]\nprimary_metric: f1\n');
    expect(isMlgymTask(parseYaml(readFileSync(file, 'utf8')), file)).toBe(true);
    const task = loadTask(file, datasetsDir, { allowMissingFiles: true });
    expect(task.mlgym!.metrics).toEqual({ from: 'yaml' });
    expect(task.evaluation_paths.map(placedName)).toEqual(['evaluate.py']);
    expect(resolve(task.dir, task.evaluation_paths[0]!)).toBe(join(dir, 'data/myCsvTask/evaluate.py'));
  });

  it('know which way common metric names go', () => {
    expect(['rmse', 'val_loss', 'Time', 'Reward Std', 'error rate'].map(directionByName)).toEqual(['min', 'min', 'min', 'min', 'min']);
    expect(['accuracy', 'BLEU Score', 'Reward Mean', 'r2', 'validation_accuracy', 'Score'].map(directionByName)).toEqual(['max', 'max', 'max', 'max', 'max', 'max']);
    expect(directionByName('Wins')).toBeUndefined();
  });
});
