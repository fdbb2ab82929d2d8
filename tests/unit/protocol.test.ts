import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadSuite } from '../../lib/bench/suite.js';
import { ConfigError, type LoadedDataset } from '../../lib/config/load.js';
import { runFromTraj } from '../../lib/report/trajRun.js';
import { shownSplit } from '../../lib/run/protocol.js';
import { recordName } from '../../lib/run/records.js';
import { runStaticSummary } from '../../lib/run/start.js';
import type { RunResult } from '../../lib/run/types.js';
import { taskDataEntries } from '../../lib/sandbox/container.js';
import { specFromFlags } from '../../cli/bench.js';
import { mlgym } from '../helpers/cli.js';
import { writeRun } from '../helpers/reportFixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mlgym-protocol-'));

describe("the run's protocol: what validate shows", () => {
  it('shows the test score under mlgym whatever the task says; ours shows what the task says; a submit is always scored on test', () => {
    expect(shownSplit('validate', 'validation', undefined)).toBe('validation');
    expect(shownSplit('validate', 'validation', 'ours')).toBe('validation');
    expect(shownSplit('validate', 'test', 'ours')).toBe('test');
    expect(shownSplit('validate', 'validation', 'mlgym')).toBe('test');
    expect(shownSplit('submit', 'validation', 'ours')).toBe('test');
  });

  it("names MLGym's protocol in the run's summary in the Temporal UI", () => {
    const input = { runId: 'r', taskId: 'blotto', model: 'baseline', seed: 1, maxSteps: 5, keep: false, continueEvery: 100 };
    expect(runStaticSummary({ ...input, protocol: 'mlgym' })).toBe('blotto · baseline · seed 1 · MLGym protocol (validate shows test)');
    expect(runStaticSummary({ ...input, protocol: 'ours' })).toBe('blotto · baseline · seed 1');
  });

  it('is set for a whole benchmark by a suite file or --protocol, and refused when unknown', () => {
    const suite = (name: string, extra: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `name: ${name}\ntasks: [prisonersDilemma]\nmodels: [baseline]\n${extra}`);
      return file;
    };
    expect(loadSuite(suite('paper', 'protocol: mlgym\n')).protocol).toBe('mlgym');
    expect(loadSuite(suite('plain', '')).protocol).toBeUndefined();
    expect(() => loadSuite(suite('typo', 'protocol: paper\n'))).toThrow(ConfigError);
    expect(() => loadSuite(suite('typo', 'protocol: paper\n'))).toThrow(/protocol: .*"ours".*"mlgym"/);
    const flags = { tasks: 'prisonersDilemma', models: 'baseline', worker: true };
    expect(specFromFlags({ ...flags, protocol: 'mlgym' }).protocol).toBe('mlgym');
    expect(specFromFlags(flags).protocol).toBeUndefined();
    expect(() => specFromFlags({ ...flags, protocol: 'paper' })).toThrow('--protocol expects "ours" or "mlgym", got "paper"');
  });

  it('exits 2 for `mlgym run --protocol` with an unknown protocol', async () => {
    const r = await mlgym({}, 'run', 'prisonersDilemma', '--model', 'baseline', '--protocol', 'paper', '--no-worker', '--json');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toBe('--protocol expects "ours" or "mlgym", got "paper"');
  });
});

describe('reports keep protocols apart', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlgym-protocol-report-'));
  const store = new ArtifactStore(join(home, 'artifacts'));
  const env = { MLGYM_HOME: home };
  const spec = (runId: string, model: string, score: number) => ({ runId, task: 'prisonersDilemma', model, metric: 'Score', direction: 'max' as const, baseline: 2.37, steps: [{ action: 'validate', score }, { action: 'submit', score }] });

  it('warns when runs mix protocols, and --protocol keeps the runs of one (a result without one ran ours)', async () => {
    await writeRun(store, spec('run-paper', 'm-paper', 2.6));
    const paper = (await store.readJson<RunResult>('run-paper', recordName.result))!;
    await store.writeJson('run-paper', recordName.result, { ...paper, protocol: 'mlgym' });
    await writeRun(store, spec('run-ours', 'm-ours', 2.5));
    await writeRun(store, spec('run-ours-2', 'm-other', 2.4));
    const out = join(home, 'r.html');

    const mixed = await mlgym(env, 'report', '--runs', 'run-paper,run-ours,run-ours-2', '--out', out, '--json');
    expect(mixed.status, mixed.stderr).toBe(0);
    expect(mixed.stderr).toContain('warning: these runs ran under different protocols: mlgym (1 run), ours (2 runs)');
    expect(JSON.parse(mixed.stdout).protocols).toEqual({ mlgym: 1, ours: 2 });
    expect(readFileSync(out, 'utf8')).toContain('These runs ran under 2 protocols: mlgym (1), ours (2).');

    const ours = await mlgym(env, 'report', '--runs', 'run-paper,run-ours,run-ours-2', '--out', out, '--protocol', 'ours', '--json');
    expect(ours.status, ours.stderr).toBe(0);
    const json = JSON.parse(ours.stdout);
    expect(json.runs).toEqual(['run-ours', 'run-ours-2']);
    expect(Object.keys(json.aup.bestAttempt).sort()).toEqual(['baseline', 'm-other', 'm-ours']);
    expect(ours.stderr).toContain('left out 1 run(s) not under protocol ours: mlgym (1 run)');
    expect(readFileSync(out, 'utf8')).toContain('<p class="meta">protocol ours</p>');

    const none = await mlgym(env, 'report', '--runs', 'run-ours', '--out', out, '--protocol', 'mlgym');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no run here ran under protocol "mlgym"; protocols: ours (1 run)');
    expect((await mlgym(env, 'report', '--runs', 'run-ours', '--out', out, '--protocol', 'paper')).status).toBe(2);
  });

  it("reads an MLGym .traj as MLGym's protocol, and one of ours exported before protocols were recorded as ours", () => {
    const trajFile = (folder: string, environment: string, info: Record<string, unknown> = {}) => {
      mkdirSync(join(dir, folder), { recursive: true });
      const file = join(dir, folder, 'prisonersDilemma.traj');
      writeFileSync(file, JSON.stringify({ environment, trajectory: [{ action: 'submit', observation: '', execution_time: 1 }], info: { exit_status: 'submitted', score: [{ Score: 2.4 }], ...info } }));
      return file;
    };
    expect(runFromTraj(trajFile('theirs', 'mlgym_main')).protocol).toBe('mlgym');
    expect(runFromTraj(trajFile('ours-old', 'durable-mlgym')).protocol).toBe('ours');
    expect(runFromTraj(trajFile('ours-paper', 'durable-mlgym', { protocol: 'mlgym' })).protocol).toBe('mlgym');
  });
});

describe("where a dataset's files land in the workspace", () => {
  const dataset = (name: string, workspaceDir: string): LoadedDataset => {
    const dataDir = join(dir, 'datasets', name);
    mkdirSync(join(dataDir, 'sub'), { recursive: true });
    writeFileSync(join(dataDir, `${name}.csv`), 'a\n1\n');
    writeFileSync(join(dataDir, 'sub', `${name}.bin`), 'x');
    return { name, title: name, description: '', data_path: dataDir, is_local: true, file: join(dir, `${name}.yaml`), dataDir, workspaceDir };
  };

  it("at each dataset's workspaceDir: data/<name> for ours, data itself for an MLGym task's (its code reads data/<file>); root-owned, read-only, each folder once", () => {
    const ours = taskDataEntries({ datasets: [dataset('prices', 'data/prices')] });
    const names = (entries: { name: string }[]) => entries.map((e) => e.name).sort();
    expect(names(ours)).toEqual(['data', 'data/prices', 'data/prices/prices.csv', 'data/prices/sub', 'data/prices/sub/prices.bin']);
    const mlgymTask = taskDataEntries({ datasets: [dataset('houses', 'data'), dataset('extra', 'data')] });
    expect(names(mlgymTask)).toEqual(['data', 'data/extra.csv', 'data/houses.csv', 'data/sub', 'data/sub/extra.bin', 'data/sub/houses.bin']);
    expect(mlgymTask.every((e) => e.uid === 0 && (e.mode & 0o222) === 0)).toBe(true);
    expect(taskDataEntries({ datasets: [] })).toEqual([]);
  });
});
