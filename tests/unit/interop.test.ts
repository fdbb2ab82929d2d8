import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadReplay, replayTurn } from '../../lib/agent/replay.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { ConfigError, detectKind } from '../../lib/config/load.js';
import { schemas, type ConfigKind } from '../../lib/config/schema.js';
import { repoRoot, tasksDir } from '../../lib/home.js';
import { MLGYM_TASK_METRICS } from '../../lib/interop/mlgymTasks.js';
import { fromMlgym } from '../../lib/interop/mlgymTask.js';
import { readTraj } from '../../lib/interop/traj.js';
import { recordName, type ObservationRecord } from '../../lib/run/records.js';
import { runFromTraj } from '../../lib/report/trajRun.js';
import type { RunResult, TurnResult } from '../../lib/run/types.js';
import { EDIT_ACTION, writeRun, type RunSpec } from '../helpers/reportFixtures.js';
import { mlgym } from '../helpers/cli.js';


function write(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** What lib/config/load.ts does with the hook in place: parse the YAML, translate, validate. */
function parseWithHook<K extends ConfigKind>(kind: K, file: string): z.ZodSafeParseResult<z.output<(typeof schemas)[K]>> {
  return schemas[kind].safeParse(fromMlgym(kind, parseYaml(readFileSync(file, 'utf8')), file)) as z.ZodSafeParseResult<z.output<(typeof schemas)[K]>>;
}

describe('MLGym task and dataset YAMLs', () => {
  // An MLGym checkout: configs/tasks, configs/datasets, data/<task>/ (paths as MLGym writes them).
  const root = mkdtempSync(join(tmpdir(), 'mlgym-checkout-'));
  const taskFile = write(
    join(root, 'configs/tasks/regressionKaggleHousePrice.yaml'),
    `id: regressionKaggleHousePrice
name: Housing Price Prediction
description: |-
  Predict SalePrice. {dataset_docs}
dataset_configs:
  - datasets/kaggleHousePrice.yaml
task_entrypoint: CSVSubmissionTasks
training_timeout: 1800
use_generic_conda: true
starter_code:
  - data/regressionKaggleHousePrice/baseline.py
  - data/regressionKaggleHousePrice/evaluate.py
baseline_paths:
  - baseline.py
baseline_scores:
  - rmse: 30340.111853413255
    r2: 0.8799891474739243
evaluation_paths:
  - evaluate.py
evaluation_read_only: true
`,
  );
  const datasetFile = write(
    join(root, 'configs/datasets/kaggleHousePrice.yaml'),
    `name: KaggleHousingPrice\ndescription: "Ames housing, 1460 rows"\ndata_path: data/regressionKaggleHousePrice/data\nis_local: true\n`,
  );
  for (const f of ['baseline.py', 'evaluate.py', 'data/train.csv']) write(join(root, 'data/regressionKaggleHousePrice', f), '# fixture\n');

  it('need the translation: as they are, a task lacks our metric fields', async () => {
    const raw = schemas.task.safeParse(parseYaml(readFileSync(taskFile, 'utf8')));
    expect(raw.success).toBe(false);
    expect(raw.error!.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['metrics', 'primary_metric']));
    expect(detectKind(taskFile)).toBe('task');
    expect(detectKind(datasetFile)).toBe('dataset');
  });

  it("load a known task with MLGym's metrics and its checkout's files", async () => {
    const parsed = parseWithHook('task', taskFile);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    const task = parsed.data!;
    expect(task.metrics).toEqual([
      { name: 'r2', direction: 'max' },
      { name: 'rmse', direction: 'min' },
    ]);
    expect(task.primary_metric).toBe('r2');
    expect(task.baseline_scores).toEqual([{ rmse: 30340.111853413255, r2: 0.8799891474739243 }]);
    const dir = dirname(taskFile);
    expect(task.starter_code).toEqual(['../../data/regressionKaggleHousePrice/baseline.py', '../../data/regressionKaggleHousePrice/evaluate.py']);
    expect(task.evaluation_paths).toEqual(['../../data/regressionKaggleHousePrice/evaluate.py']);
    expect(task.baseline_paths).toEqual(['baseline.py']);
    for (const p of [...task.starter_code, ...task.evaluation_paths, ...task.dataset_configs]) expect(existsSync(resolve(dir, p)), p).toBe(true);
    expect(resolve(dir, task.dataset_configs[0]!)).toBe(datasetFile);
  });

  it("load a dataset with its checkout's data as local_path", async () => {
    const parsed = parseWithHook('dataset', datasetFile);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toMatchObject({ name: 'KaggleHousingPrice', data_path: 'data/regressionKaggleHousePrice/data', is_local: true, local_path: '../../data/regressionKaggleHousePrice/data' });
    expect(existsSync(resolve(dirname(datasetFile), parsed.data!.local_path!, 'train.csv'))).toBe(true);
  });

  it('ask for the metrics of a task outside MLGym-Bench, naming the field and what to write', async () => {
    const titanic = write(join(root, 'configs/tasks/titanic.yaml'), 'id: titanicSurvival\nname: Titanic\ndescription: Predict survival.\nbaseline_scores:\n  - Accuracy: 0.76555\n    Loss: 0.5\nevaluation_paths: [evaluate.py]\n');
    expect(() => parseWithHook('task', titanic)).toThrow(ConfigError);
    try {
      parseWithHook('task', titanic);
    } catch (err) {
      expect((err as ConfigError).file).toBe(titanic);
      expect((err as ConfigError).problems).toEqual([{ path: 'metrics', message: expect.stringContaining('"titanicSurvival" is not one of the 13 MLGym-Bench tasks') }]);
      expect((err as ConfigError).message).toContain('metrics: [{ name: Accuracy, direction: max }, { name: Loss, direction: min }] and primary_metric: <the one that ranks attempts: Accuracy or Loss>');
    }
    // One metric whose name says its direction is enough.
    const single = write(join(root, 'configs/tasks/titanicSingle.yaml'), 'id: titanicSurvival\nname: Titanic\ndescription: Predict survival.\nbaseline_scores:\n  - Accuracy: 0.76555\nevaluation_paths: [evaluate.py]\n');
    expect(parseWithHook('task', single).data).toMatchObject({ metrics: [{ name: 'Accuracy', direction: 'max' }], primary_metric: 'Accuracy' });
  });

  it('name a baseline metric whose direction MLGym does not give', async () => {
    const odd = write(join(root, 'configs/tasks/blotto.yaml'), 'id: blotto\nname: Blotto\ndescription: Play.\nbaseline_scores:\n  - Score: -0.248\n    Wins: 3\nevaluation_paths: [evaluate.py]\n');
    const parsed = parseWithHook('task', odd);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['baseline_scores.0.Wins']);
  });

  it('cover the 13 MLGym-Bench tasks', async () => {
    expect(Object.keys(MLGYM_TASK_METRICS)).toHaveLength(13);
  });

  it('leave our own task configs exactly as they are', async () => {
    const files = readdirSync(tasksDir).map((d) => join(tasksDir, d, 'task.yaml')).filter(existsSync);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const data = parseYaml(readFileSync(file, 'utf8'));
      expect(fromMlgym('task', data, file)).toBe(data);
    }
  });
});

describe('export to MLGym .traj, import as a replay file, report', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlgym-interop-'));
  const env = { MLGYM_HOME: home };
  const store = new ArtifactStore(join(home, 'artifacts'));
  const heredoc = "cat > notes.md <<'EOF'\n# plan: try `tit-for-tat`\n  - keep: 'quotes' & \"double\"\nEOF";
  const spec: RunSpec = {
    runId: 'run-prisonersDilemma-gpt-4o-0-abc123',
    task: 'prisonersDilemma',
    model: 'gpt-4o',
    metric: 'Score',
    direction: 'max',
    baseline: 2.41418,
    callCostUsd: 0.01,
    steps: [
      { action: 'ls', thought: 'Look around.', observation: 'strategy.py\ntarget.py' },
      { action: 'open "strategy.py"', thought: 'Read it.', observation: '1:def row_strategy(history):' },
      { action: EDIT_ACTION, thought: 'Tit-for-tat: copy the last move.', observation: 'File updated.' },
      { action: heredoc, thought: 'Notes with: colons, # hashes and quotes.', observation: '' },
      { action: 'validate', thought: 'Score it.', score: 2.5 },
      { action: 'validate', thought: 'Once more.', score: { error: 'evaluate.py crashed' } },
      { action: 'exit_format', thought: 'Exit due to format error' },
    ],
    endedBy: 'exit_format',
    autosubmit: 2.45,
  };
  const out = join(home, 'export');
  let result: RunResult;
  let exported: { files: { traj: string; results: string; args: string }; steps: number };

  beforeAll(async () => {
    result = await writeRun(store, spec);
    // How long each action took, as the activities record it (the autosubmit after exit_format is step 7).
    for (const step of [0, 1, 2, 3, 4, 5, 7]) {
      const obs = (await store.readJson<ObservationRecord>(spec.runId, recordName.observation(step)))!;
      await store.writeJson(spec.runId, recordName.observation(step), { ...obs, durationS: step + 0.25 });
    }
    const r = await mlgym(env, 'export', spec.runId, '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    exported = JSON.parse(r.stdout);
  });

  it("writes MLGym's run folder: <task>.traj, results.json, args.yaml", async () => {
    expect(exported.files).toEqual({ traj: join(out, 'prisonersDilemma.traj'), results: join(out, 'results.json'), args: join(out, 'args.yaml') });
    expect(exported.steps).toBe(spec.steps.length);
    expect(JSON.parse(readFileSync(exported.files.results, 'utf8'))).toEqual({ agent: [{ Score: 2.5 }, { Score: 2.45 }], baseline: { Score: 2.41418 }, protocol: 'ours' });
    // A result from before protocols were recorded ran ours: the export says so.
    expect(parseYaml(readFileSync(exported.files.args, 'utf8'))).toMatchObject({ agent: { model: { model_name: 'gpt-4o' } }, environment: { task_config_path: 'tasks/prisonersDilemma/task.yaml' }, protocol: 'ours' });
  });

  it('has the .traj fields MLGym writes', async () => {
    const traj = JSON.parse(readFileSync(exported.files.traj, 'utf8'));
    expect(Object.keys(traj)).toEqual(['environment', 'trajectory', 'history', 'info']);
    expect(traj.trajectory.map((s: object) => Object.keys(s).sort())).toEqual(spec.steps.map(() => ['action', 'execution_time', 'observation', 'response', 'state', 'thought']));
    expect(traj.trajectory.map((s: { action: string }) => s.action)).toEqual(spec.steps.map((s) => s.action));
    expect(traj.trajectory[2]).toMatchObject({ thought: 'Tit-for-tat: copy the last move.', observation: 'File updated.', response: `Tit-for-tat: copy the last move.\n\`\`\`\n${EDIT_ACTION}\n\`\`\``, execution_time: 2.25 });
    // Each step's real execution time; the exit_format step's is its autosubmit's.
    expect(traj.trajectory.map((t: { execution_time: number }) => t.execution_time)).toEqual([0.25, 1.25, 2.25, 3.25, 4.25, 5.25, 7.25]);
    expect(JSON.parse(traj.trajectory[0].state)).toEqual({ open_file: 'n/a', working_dir: '/home/agent/workspace' });
    expect(traj.trajectory[4].observation).toContain('Evaluation Score');
    // The autosubmit after exit_format is that step's observation, as in MLGym.
    expect(traj.trajectory[6].observation).toBe('Submitted.');
    expect(traj.info).toEqual({
      model_stats: { total_cost: result.costUsd, task_cost: result.costUsd, tokens_sent: 7 * 1000 + 100 * 21, tokens_received: 7 * 50, api_calls: 7 },
      exit_status: 'autosubmission (exit_format)',
      submission: '/home/agent/workspace/strategy.py',
      score: [{ Score: 2.5 }, { Score: 2.45 }],
      summarizer: {},
      protocol: 'ours',
    });
    expect(traj.history.slice(0, 2).map((h: { role: string }) => h.role)).toEqual(['system', 'user']);
    expect(traj.history).toHaveLength(2 + 2 * spec.steps.length);
    expect(traj.history[2]).toEqual({ role: 'assistant', content: traj.trajectory[0].response, thought: 'Look around.', action: 'ls', agent: 'primary_0' });
    expect(traj.history[3]).toEqual({ role: 'user', content: 'strategy.py\ntarget.py', agent: 'primary_0' });
    expect(readTraj(exported.files.traj).trajectory).toHaveLength(spec.steps.length);
  });

  it('imports the .traj as a replay file that plays back the same actions', async () => {
    const replayFile = join(home, 'replay.yaml');
    const r = await mlgym(env, 'import', exported.files.traj, '--out', replayFile, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file: exported.files.traj, out: replayFile, task: 'prisonersDilemma', actions: spec.steps.length, model: `replay:${replayFile}` });
    const steps = loadReplay(replayFile);
    expect(steps).toEqual(spec.steps.map((s) => ({ action: s.action, thought: s.thought })));
    for (const [i, s] of spec.steps.entries()) {
      const turn = await store.readJson<TurnResult>(spec.runId, recordName.turn(i));
      expect(replayTurn(steps, i)).toEqual({ ...turn, costUsd: 0 });
      expect(s.action).toBe(steps[i]!.action);
    }
    expect(readFileSync(replayFile, 'utf8')).toContain('- action: |-\n    edit 3:4\n');
  });

  it('imports next to the .traj by default, and exits 2 on a bad .traj', async () => {
    const r = await mlgym(env, 'import', exported.files.traj);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`wrote ${spec.steps.length} action(s) to ${join(out, 'prisonersDilemma.replay.yaml')}`);
    expect(existsSync(join(out, 'prisonersDilemma.replay.yaml'))).toBe(true);
    const bad = write(join(home, 'bad.traj'), JSON.stringify({ environment: 'x', history: [] }));
    const b = await mlgym(env, 'import', bad, '--json');
    expect(b.status).toBe(2);
    expect(JSON.parse(b.stdout).problems).toEqual([{ path: 'trajectory', message: expect.any(String) }]);
    expect((await mlgym(env, 'import', write(join(home, 'garbage.traj'), '{ nope'))).status).toBe(2);
  });

  it('reports the exported .traj like the run it came from', async () => {
    const run = runFromTraj(exported.files.traj);
    expect(run).toMatchObject({ origin: 'traj', task: 'prisonersDilemma', model: 'gpt-4o', exitStatus: result.exitStatus, status: 'completed', stepCount: spec.steps.length, primaryMetric: 'Score', direction: 'max', baseline: 2.41418 });
    expect(run.costUsd).toBeCloseTo(result.costUsd, 12);
    const scored = (attempts: RunResult['attempts']) => attempts.filter((a) => a.metrics).map((a) => [a.kind, a.metrics]);
    expect(scored(run.attempts)).toEqual(scored(result.attempts));
    expect(run.attempts[0]!.step).toBe(4);
    expect(run.steps.map((s) => s.action)).toEqual(spec.steps.map((s) => s.action));

    const html = join(home, 'both.html');
    const r = await mlgym(env, 'report', '--runs', spec.runId, '--traj', exported.files.traj, '--out', html, '--json');
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ kind: 'runs', runs: [spec.runId, 'export.prisonersDilemma'], tasks: ['prisonersDilemma'], models: ['gpt-4o'] });
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<section class="trajectory" id="run-export.prisonersDilemma">');
    expect(page).toContain('MLGym .traj');
  });

  it("reads MLGym's own run folders: the model from the folder name, null observations, other score values", async () => {
    const dir = join(home, 'litellm-gpt-4o__blotto__default__t-0.00__p-0.95__c-4.00__install-0_run_0');
    const file = write(
      join(dir, 'blotto.traj'),
      JSON.stringify({
        environment: 'mlgym_main',
        trajectory: [
          { action: 'validate', observation: 'Your code produced a valid submission artefact at /home/agent/workspace/target.py.\nBaseline Score: {...}\nEvaluation Score: {"Score": 0.1}', response: '', state: '{}', thought: '', execution_time: 1.5 },
          { action: 'python evaluate.py', observation: null, response: '', state: '{}', thought: 't', execution_time: 2 },
          { action: 'submit', observation: '', response: '', state: '{}', thought: 'done', execution_time: 3 },
        ],
        history: [{ role: 'system', content: 'SETTING: ...', agent: 'primary_0' }],
        info: { model_stats: { total_cost: 0.5, instance_cost: 0.5, tokens_sent: 10, tokens_received: 5, api_calls: 3 }, exit_status: 'submitted', submission: '/home/agent/workspace/target.py', score: [{ Score: 0.1 }, { Score: 0.2, note: 'n/a' }], summarizer: {} },
      }),
    );
    write(join(dir, 'results.json'), JSON.stringify({ agent: [{ Score: 0.1 }, { Score: 0.2 }], baseline: { Score: -0.248 } }));
    const run = runFromTraj(file);
    expect(run).toMatchObject({ model: 'litellm-gpt-4o', task: 'blotto', exitStatus: 'submitted', status: 'completed', costUsd: 0.5, baseline: -0.248, primaryMetric: 'Score' });
    expect(run.attempts).toEqual([
      { step: 0, kind: 'validate', metrics: { Score: 0.1 } },
      { step: 2, kind: 'submit', metrics: { Score: 0.2 } },
    ]);
    expect(run.steps[1]!.observation).toBe('');
  });

  it('exits 2 exporting an unknown or unfinished run', async () => {
    expect((await mlgym(env, 'export', 'run-nope', '--out', join(home, 'x'))).status).toBe(2);
    await store.writeJson('run-unfinished', recordName.turn(0), { action: { kind: 'command', command: 'ls' }, thought: '', costUsd: 0 });
    const r = await mlgym(env, 'export', 'run-unfinished', '--out', join(home, 'x'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('only a finished run can be exported');
    expect(existsSync(join(home, 'x'))).toBe(false);
  });
});
