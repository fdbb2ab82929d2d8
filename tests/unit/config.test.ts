import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadTask, placedName } from '../../lib/config/load.js';
import { jsonSchema, schemaFile } from '../../lib/config/jsonSchema.js';
import { datasetsDir, repoRoot, taskFile } from '../../lib/home.js';
import { mlgym } from '../helpers/cli.js';


function tempYaml(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mlgym-cfg-')), 'task.yaml');
  writeFileSync(file, text);
  return file;
}

describe('task config validation', () => {
  it('loads the prisonersDilemma task with defaults filled in', async () => {
    const task = loadTask(taskFile('prisonersDilemma'), datasetsDir);
    expect(task.primary_metric).toBe('Score');
    expect(task.network).toBe('none');
    expect(task.resources.memory_mb).toBe(1024);
    expect(task.validate_shows).toBe('validation');
  });

  it('names the file, the field path and what was expected', async () => {
    const file = join(repoRoot, 'tests/fixtures/bad-task.yaml');
    let error: ConfigError | undefined;
    try {
      loadConfig('task', file);
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.file).toBe(file);
    const paths = error!.problems.map((p) => p.path);
    expect(paths).toContain('metrics[0].direction');
    const direction = error!.problems.find((p) => p.path === 'metrics[0].direction')!;
    expect(direction.message).toMatch(/max.*min/);
    expect(direction.message).toContain('"up"');
    expect(error!.problems.some((p) => p.message.includes('"trainng_timeout"'))).toBe(true);
  });

  it('rejects a primary metric that is not declared', async () => {
    const file = tempYaml('id: t\nname: t\ndescription: d\nevaluation_paths: [e.py]\nmetrics: [{name: acc, direction: max}]\nprimary_metric: loss\n');
    expect(() => loadConfig('task', file)).toThrow(/primary_metric: expected one of the metrics' names \(acc\)/);
  });

  it('reports YAML syntax errors with the line', async () => {
    const file = tempYaml('id: t\nname: [unclosed\n');
    expect(() => loadConfig('task', file)).toThrow(/expected valid YAML \(line \d+\)/);
  });

  it('reports a missing starter file of a task', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlgym-task-'));
    writeFileSync(join(dir, 'evaluate.py'), 'print(1)\n');
    const file = join(dir, 'task.yaml');
    writeFileSync(file, 'id: t\nname: t\ndescription: d\nevaluation_paths: [evaluate.py]\nstarter_code: [missing.py]\nmetrics: [{name: acc, direction: max}]\nprimary_metric: acc\n');
    expect(() => loadTask(file, datasetsDir)).toThrow(/starter_code\[0\]: expected a file/);
  });

  it('places files of the task folder at their path and files shared from outside it under their base name', async () => {
    expect(placedName('src/train.py')).toBe('src/train.py');
    expect(placedName('./baseline.py')).toBe('baseline.py');
    expect(placedName('../rlShared/src')).toBe('src');
    expect(placedName('../../data/regressionKaggleHousePrice/evaluate.py')).toBe('evaluate.py');
    expect(placedName('sub/../../shared/grading.py')).toBe('grading.py');
  });

  it('rejects two starter files that would land at the same name', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mlgym-task-'));
    const dir = join(root, 'task');
    mkdirSync(dir);
    mkdirSync(join(root, 'shared'));
    for (const f of [join(dir, 'evaluate.py'), join(dir, 'helpers.py'), join(root, 'shared', 'helpers.py')]) writeFileSync(f, 'print(1)\n');
    const file = join(dir, 'task.yaml');
    writeFileSync(file, 'id: t\nname: t\ndescription: d\nevaluation_paths: [evaluate.py]\nstarter_code: [helpers.py, ../shared/helpers.py]\nmetrics: [{name: acc, direction: max}]\nprimary_metric: acc\n');
    expect(() => loadTask(file, datasetsDir)).toThrow(/starter_code\[1\]: expected distinct file names, "\.\.\/shared\/helpers\.py" and "helpers\.py" both land as helpers\.py/);
  });
});

describe('mlgym check', () => {
  it('exits 0 for a valid task', async () => {
    const out = await mlgym({}, 'check', taskFile('prisonersDilemma'), '--json');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ kind: 'task', valid: true });
  });

  it('exits 2 naming the wrong field', async () => {
    const out = await mlgym({}, 'check', join(repoRoot, 'tests/fixtures/bad-task.yaml'));
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('bad-task.yaml');
    expect(out.stderr).toContain('metrics[0].direction');
    expect(out.stdout).toBe('');
  });

  it('prints the problems as JSON with --json', async () => {
    const out = await mlgym({}, 'check', join(repoRoot, 'tests/fixtures/bad-task.yaml'), '--json');
    expect(out.status).toBe(2);
    const doc = JSON.parse(out.stdout);
    expect(doc.problems.map((p: { path: string }) => p.path)).toContain('metrics[0].direction');
  });

  it('exits 2 for a missing file and for an unknown task or model in run', async () => {
    expect((await mlgym({}, 'check', 'nope.yaml')).status).toBe(2);
    const unknownTask = await mlgym({}, 'run', 'noSuchTask', '--model', 'baseline');
    expect(unknownTask.status).toBe(2);
    expect(unknownTask.stderr).toContain('unknown task "noSuchTask"');
    const badSeed = await mlgym({}, 'run', 'prisonersDilemma', '--model', 'baseline', '--seed', 'x');
    expect(badSeed.status).toBe(2);
    expect(badSeed.stderr).toContain('--seed');
  });
});

describe('exported JSON Schemas', () => {
  it('are up to date with the zod schemas (regenerate: npx tsx scripts/export-schemas.ts)', async () => {
    for (const kind of ['task', 'dataset', 'models'] as const) {
      const stored = JSON.parse(readFileSync(join(repoRoot, 'schemas', schemaFile(kind)), 'utf8'));
      expect(stored).toEqual(JSON.parse(JSON.stringify(jsonSchema(kind))));
    }
    const task = JSON.parse(readFileSync(join(repoRoot, 'schemas/task.schema.json'), 'utf8'));
    expect(task.properties.metrics.items.properties.direction.enum).toEqual(['max', 'min']);
    expect(task.additionalProperties).toBe(false);
  });
});

describe('mlgym build', () => {
  it('exits 2 for a GPU count that is not a number, before building anything', async () => {
    const out = await mlgym({}, 'build', 'rlMountainCarContinuous', '--gpus', 'two');
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/--gpus expects an integer >= 0, got "two"/);
  });

  it('exits 2 for an unknown task, listing the known ones', async () => {
    const out = await mlgym({}, 'build', 'noSuchTask', '--gpus', '0');
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/unknown task "noSuchTask"; known tasks: .*rlMountainCarContinuous/);
  });
});
