import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetsDir, repoRoot, tasksDir } from '../../lib/home.js';
import type { RunResult } from '../../lib/run/types.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

// `mlgym prepare <task> --from <path>` with House Prices' importer, on a copy of the task under another id
// (MLGYM_TASKS_PATH) whose data folder is its own, so the repository's data stay as they are. The input is a
// generated table in the shape of Kaggle's train.csv (the real file cannot ship): 1,460 houses, 81 columns.

const ID = 'housePriceImported';
const KAGGLE_NAMED = ['MSSubClass', 'OverallQual', 'GrLivArea', 'YearBuilt', 'Neighborhood'];

/** A Kaggle-shaped train.csv: Id, 79 features (numeric with blanks written NA, and text), SalePrice driven by them. */
function kaggleLikeCsv(rows = 1460): string {
  const features = [...KAGGLE_NAMED, ...Array.from({ length: 74 }, (_, i) => `Feature${i}`)];
  const lines = [['Id', ...features, 'SalePrice'].join(',')];
  for (let id = 1; id <= rows; id++) {
    const quality = 1 + (id * 7) % 10;
    const area = 600 + (id * 37) % 2400;
    const values = [20 + (id % 5) * 10, quality, area, 1900 + (id * 13) % 110, ['NAmes', 'OldTown', 'Edwards', 'Gilbert'][id % 4]];
    for (let i = 0; i < 74; i++) values.push(i % 3 === 0 ? ['A', 'B', 'NA'][(id + i) % 3]! : (id * (i + 3)) % 97);
    lines.push([id, ...values, 20000 * quality + 60 * area + (id % 17) * 1000].join(','));
  }
  return lines.join('\n') + '\n';
}

function mlgym(args: string[]) {
  const out = spawnSync('node', [join(repoRoot, 'bin/mlgym.js'), ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 280_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

const csvRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));

describe('mlgym prepare <task> --from <path> (House Prices: Kaggle train.csv split as MLGym splits it)', () => {
  const t = useTestTemporal();
  let root: string;
  let taskDir: string;
  let dataDir: string;
  let source: string;
  const savedPath = process.env.MLGYM_TASKS_PATH;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'mlgym-prepare-from-'));
    taskDir = join(root, ID);
    dataDir = join(taskDir, 'local', 'housePrice');
    mkdirSync(taskDir);
    const house = join(tasksDir, 'regressionKaggleHousePrice');
    for (const f of ['baseline.py', 'evaluate.py', 'import_original.py']) copyFileSync(join(house, f), join(taskDir, f));
    writeFileSync(join(taskDir, 'task.yaml'), readFileSync(join(house, 'task.yaml'), 'utf8').replace(/^id: .*$/m, `id: ${ID}`));
    // the dataset config next to the task is found first; its data folder is inside the temporary copy
    writeFileSync(join(taskDir, 'housePrice.yaml'), readFileSync(join(datasetsDir, 'housePrice.yaml'), 'utf8'));
    source = join(root, 'kaggle', 'train.csv');
    mkdirSync(join(root, 'kaggle'));
    writeFileSync(source, kaggleLikeCsv());
    process.env.MLGYM_TASKS_PATH = root;
  });
  afterAll(() => {
    if (savedPath === undefined) delete process.env.MLGYM_TASKS_PATH;
    else process.env.MLGYM_TASKS_PATH = savedPath;
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses bad input with exit 2 and a message naming the file and what was expected', () => {
    const short = join(root, 'short.csv');
    writeFileSync(short, kaggleLikeCsv(100));
    let out = mlgym(['prepare', ID, '--from', short]);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(`${short} has 100 rows and 81 columns; Kaggle's House Prices train.csv has 1460 rows and 81 columns`);

    const ames = join(root, 'ames.csv');
    writeFileSync(ames, 'Id,Gr_Liv_Area,SalePrice\n1,1000,100000\n');
    out = mlgym(['prepare', ID, '--from', ames]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(new RegExp(`${ames} lacks the columns MSSubClass, OverallQual, GrLivArea, YearBuilt, Neighborhood; expected Kaggle's House Prices train\\.csv`));

    out = mlgym(['prepare', ID, '--from', root]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${root} is a folder without train.csv`);

    out = mlgym(['prepare', ID, '--from', join(root, 'absent.csv')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('absent.csv: no such file or folder');

    out = mlgym(['prepare', 'prisonersDilemma', '--from', source]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/task "prisonersDilemma" has no importer of its original data \(import_original\.py/);
    expect(existsSync(join(dataDir, 'train.csv'))).toBe(false);
  });

  it("imports a Kaggle-shaped train.csv into MLGym's split, and the task's baseline then runs and is scored on it", async () => {
    const out = mlgym(['prepare', ID, '--from', join(root, 'kaggle'), '--json']);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ task: ID, imported: join(root, 'kaggle') });

    const byId = new Map(csvRows(source).slice(1).map((r) => [r[0]!, r.at(-1)!]));
    const [train, validation, test] = ['train', 'validation', 'test'].map((s) => csvRows(join(dataDir, `${s}.csv`)));
    expect([train!.length - 1, validation!.length - 1, test!.length - 1]).toEqual([1022, 146, 292]);
    expect(train![0]!.at(-1)).toBe('SalePrice');
    expect(test![0]).not.toContain('SalePrice');
    const ids = (rows: string[][]) => rows.slice(1).map((r) => r[0]!);
    expect(new Set([...ids(train!), ...ids(validation!), ...ids(test!)]).size).toBe(1460);
    // MLGym's rows in MLGym's order: train_test_split's permutation (seed 42) depends only on the row count, so
    // these Ids are those of the split of Kaggle's file (checked against it: the page's recorded baseline)
    expect(ids(test!).slice(0, 5)).toEqual(['893', '1106', '414', '523', '1037']);
    expect(ids(validation!).slice(0, 5)).toEqual(['1412', '316', '584', '1343', '892']);
    expect(ids(train!).slice(0, 5)).toEqual(['1084', '1012', '1115', '514', '643']);

    const answers = csvRows(join(taskDir, 'answers.csv'));
    expect(answers[0]).toEqual(['Id', 'SalePrice', 'split']);
    expect(answers.slice(1).filter((a) => a[2] === 'validation').map((a) => a[0])).toEqual(ids(validation!));
    expect(answers.slice(1).filter((a) => a[2] === 'test').map((a) => a[0])).toEqual(ids(test!));
    for (const [id, price] of answers.slice(1)) expect(Number(price)).toBe(Number(byId.get(id!)));
    expect(readFileSync(join(dataDir, 'IMPORTED.txt'), 'utf8')).toMatch(/^sha256 [0-9a-f]{64}\n$/);

    const input = runInput(ID, 'baseline');
    const worker = await t.worker('prepare-from');
    const result = (await worker.runUntil(startRun(t.client, 'prepare-from', input).then((h) => h.result()))) as RunResult;
    expect(result.status, JSON.stringify(result.attempts)).toBe('completed');
    expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
    // the generated prices are nearly linear in the features, so the ridge baseline fits them closely
    expect(result.submission!.metrics!.r2).toBeGreaterThan(0.9);
  });
});
