import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { repoRoot } from '../../lib/home.js';
import { actionCategory, exitCategories } from '../../lib/report/categories.js';
import { buildReport } from '../../lib/report/html/page.js';
import { readRunRecords } from '../../lib/report/records.js';
import { runFromRecords, type ReportRun } from '../../lib/report/run.js';
import { computeVariantProfiles } from '../../lib/scoring/profiles.js';
import { scoresFromRuns } from '../../lib/scoring/runs.js';
import { EDIT_ACTION, HOSTILE_OBSERVATION, writeBenchmark } from '../helpers/reportFixtures.js';
import { mlgym } from '../helpers/cli.js';


describe('exit and action categories', () => {
  it.each([
    ['submitted', ['Submitted']],
    ['autosubmission (max_steps)', ['Autosubmission', 'Max steps']],
    ['evaluation_format_error (exit_context)', ['Evaluation error', 'Context']],
    ['submission_not_found (exit_format)', ['Evaluation error', 'Format']],
    ['submission_not_found', ['Evaluation error']],
    ['autosubmission (exit_cost)', ['Autosubmission', 'Cost']],
    ['exit_forfeit', ['Forfeit']],
    ['exit_error', ['Runtime error']],
    ['running', ['Running']],
    ['RuntimeError, container died, (exit_api)', ['API error']],
    ['early_exit', ['Unknown']],
  ])('%s → %j', (status, categories) => {
    expect(exitCategories(status)).toEqual(categories);
  });

  it.each([
    [EDIT_ACTION, 'Edit'],
    ['insert 10\nx = 1\nend_of_insert', 'Edit'],
    ['create notes.md', 'Edit'],
    ['open "strategy.py" 40', 'View'],
    ['scroll_down', 'View'],
    ['cat data/train.csv | head', 'View'],
    ['ls -la', 'View'],
    ['validate', 'Validate'],
    ['submit', 'Submit'],
    ['python3 train.py --epochs 3', 'Python'],
    ['cd src && python train.py', 'Python'],
    ['CUDA_VISIBLE_DEVICES=0 /usr/bin/python3 x.py', 'Python'],
    ['search_dir "def " .', 'Search'],
    ['grep -rn lr src', 'Search'],
    ['find . -name "*.py"', 'Search'],
    ['pip install lightgbm', 'Bash'],
    ['mkdir out', 'Bash'],
    ['exit_context', 'Exit'],
  ])('%j → %s', (action, category) => {
    expect(actionCategory(action)).toBe(category);
  });
});

describe('the report page over a 3-task × 2-agent benchmark', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlgym-report-'));
  const store = new ArtifactStore(join(home, 'artifacts'));
  let runs: ReportRun[];

  beforeAll(async () => {
    const results = await writeBenchmark(store, 'bench-unit');
    runs = await Promise.all(results.map(async (r) => runFromRecords(await readRunRecords(store, r.runId), store.where(r.runId))));
  });

  it('reads each run back from its records', async () => {
    const gpt = runs.find((r) => r.id === 'bench-unit-prisonersDilemma-gpt-4o-s0')!;
    expect(gpt).toMatchObject({ task: 'prisonersDilemma', model: 'gpt-4o', status: 'completed', exitStatus: 'submitted', stepCount: 7, primaryMetric: 'Score', direction: 'max', baseline: 2.37 });
    expect(gpt.costUsd).toBeCloseTo(7 * 0.0125, 12);
    expect(gpt.usage).toEqual({ tokensSent: 7 * 1000 + 100 * (0 + 1 + 2 + 3 + 4 + 5 + 6), tokensReceived: 350, apiCalls: 7 });
    expect(gpt.steps.map((s) => s.attempt?.kind)).toEqual([undefined, undefined, undefined, 'validate', undefined, 'validate', 'submit']);
    const context = runs.find((r) => r.id === 'bench-unit-languageModelingFineWeb-llama-s0')!;
    expect(context.exitStatus).toBe('evaluation_format_error (exit_context)');
    // The autosubmit after the exit is a step of the harness, with no action.
    expect(context.steps.at(-1)).toMatchObject({ step: 4, action: '', attempt: { kind: 'submit', error: 'evaluate.py printed no JSON' } });
  });

  it("computes MLGym's profiles, AUP and ranks with lib/scoring", async () => {
    const { summary } = buildReport({ title: 't', links: [], runs, generatedAt: new Date(0) });
    const tasks = {
      prisonersDilemma: { primaryMetric: 'Score', direction: 'max' as const, baseline: 2.37 },
      regressionKaggleHousePrice: { primaryMetric: 'r2', direction: 'max' as const, baseline: 0.88 },
      languageModelingFineWeb: { primaryMetric: 'val_loss', direction: 'min' as const, baseline: 4.67 },
    };
    expect(summary.scoring).toEqual(tasks);
    const expected = computeVariantProfiles(scoresFromRuns(runs, tasks));
    expect(summary.profiles!.tauMax).toBe(expected.tauMax);
    expect(summary.profiles!.bestAttempt.aup).toEqual(expected.bestAttempt.aup);
    expect(summary.profiles!.bestSubmission.ranks).toEqual(expected.bestSubmission.ranks);
    // gpt-4o is best on every task: ρ = 1 everywhere, so its AUP is T.
    expect(summary.profiles!.bestAttempt.aup['gpt-4o']).toBeCloseTo(expected.tauMax, 12);
    expect(summary.scores!.bestSubmission.tasks.languageModelingFineWeb!.scores['<b>llama</b>']).toBeNull();
  });

  it('counts exits and actions per model', async () => {
    const { summary } = buildReport({ title: 't', links: [], runs, generatedAt: new Date(0) });
    expect(summary.all.exits).toEqual({ Submitted: 5, 'Evaluation error': 1, Context: 1 });
    expect(summary.all.exitStatuses).toEqual({ submitted: 5, 'evaluation_format_error (exit_context)': 1 });
    expect(summary.byModel['gpt-4o']!.actions).toEqual({ View: 6, Edit: 3, Validate: 6, Python: 3, Submit: 3 });
    expect(summary.byModel['<b>llama</b>']!.actions).toEqual({ Search: 3, View: 3, Validate: 3, Submit: 2, Exit: 1 });
    expect(summary.byModel['gpt-4o']!.costUsd).toBeCloseTo(3 * 7 * 0.0125, 12);
  });

  it('escapes every text from the agent and the models', async () => {
    const { html } = buildReport({ title: 'x <i>y</i>', links: [], runs, generatedAt: new Date(0) });
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>llama</b>');
    expect(html).not.toContain('<i>y</i>');
    expect(html).toContain('&#60;script&#62;window.__pwned = true&#60;/script&#62;');
    expect(html).toContain('data-method="&#60;b&#62;llama&#60;/b&#62;"');
    expect(HOSTILE_OBSERVATION).toContain('<script>');
  });

  it('has every section, a trajectory per run and both profile plots with a curve per method', async () => {
    const { html } = buildReport({ title: 't', links: [], runs, generatedAt: new Date(0) });
    for (const id of ['profiles', 'aup', 'scores', 'cost', 'exits', 'actions', 'runs']) expect(html).toContain(`<section id="${id}">`);
    expect(html.match(/<section class="trajectory" id="run-/g)).toHaveLength(6);
    expect(html.match(/<path class="profile"/g)).toHaveLength(2 * 3);
    expect(html.match(/<figure class="plot steps-plot">/g)).toHaveLength(6);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('shows one run alone: no profiles, its trajectory open', async () => {
    const { html } = buildReport({ title: 'one', links: [], runs: [runs[0]!], generatedAt: new Date(0) });
    expect(html).not.toContain('<section id="profiles">');
    expect(html).not.toContain('<section id="runs">');
    expect(html).toContain(`<section class="trajectory always" id="run-${runs[0]!.id}">`);
  });

  it('cuts a huge observation in the middle', async () => {
    const big = { ...runs[0]!, steps: [{ step: 0, thought: '', action: 'python3 train.py', observation: `start\n${'x'.repeat(100_000)}\nend`, costUsd: 0 }] };
    const { html } = buildReport({ title: 'big', links: [], runs: [big], generatedAt: new Date(0) });
    expect(html).toContain('characters cut from the middle of this output');
    expect(html).toContain('start');
    expect(html).toContain('end</pre>');
    expect(html.length).toBeLessThan(60_000);
  });

  it("marks the steps that ran again on another host after the run's host was lost", async () => {
    const steps = [0, 1, 2].map((step) => ({ step, thought: '', action: `echo ${step}`, observation: '', costUsd: 0, ...(step === 1 ? { rerunOn: ['mlgym@host-a'] } : {}) }));
    const { html } = buildReport({ title: 'moved', links: [], runs: [{ ...runs[0]!, steps }], generatedAt: new Date(0) });
    expect(html.match(/re-run on mlgym@host-a after a lost host/g)).toHaveLength(1);
    const stepOne = html.slice(html.indexOf('-step-1"'), html.indexOf('-step-2"'));
    expect(stepOne).toContain('re-run on mlgym@host-a after a lost host');
  });

  describe('mlgym report', () => {
    const env = { MLGYM_HOME: home, TEMPORAL_UI_URL: 'http://temporal.example:8080/', TEMPORAL_NAMESPACE: 'research' };

    it('reports one run by its id, linked to the Temporal Web UI', async () => {
      const out = join(home, 'run.html');
      const r = await mlgym(env, 'report', 'bench-unit-prisonersDilemma-gpt-4o-s0', '--out', out, '--json');
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ out, kind: 'run', runs: ['bench-unit-prisonersDilemma-gpt-4o-s0'], aup: null });
      const html = readFileSync(out, 'utf8');
      expect(html).toContain('href="http://temporal.example:8080/namespaces/research/workflows/bench-unit-prisonersDilemma-gpt-4o-s0"');
      expect(html).not.toContain('<section id="profiles">');
    });

    it('reports a list of runs with AUP on stdout as JSON, and a summary on stderr without --json', async () => {
      const ids = runs.map((r) => r.id).join(',');
      const out = join(home, 'runs.html');
      const r = await mlgym(env, 'report', '--runs', ids, '--out', out, '--json');
      expect(r.status, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json).toMatchObject({ kind: 'runs', tasks: ['prisonersDilemma', 'regressionKaggleHousePrice', 'languageModelingFineWeb'], models: ['gpt-4o', '<b>llama</b>'], unscored: [] });
      expect(Object.keys(json.aup.bestAttempt).sort()).toEqual(['<b>llama</b>', 'baseline', 'gpt-4o']);
      expect(json.ranks.bestSubmission['gpt-4o']).toBe(1);
      const human = await mlgym(env, 'report', '--runs', ids, '--out', out);
      expect(human.status, human.stderr).toBe(0);
      expect(human.stdout).toBe('');
      expect(human.stderr).toContain(`wrote ${out}: 6 run(s), 3 task(s), 2 model(s)`);
      expect(human.stderr).toMatch(/AUP \(best attempt, T = [\d.]+\): gpt-4o [\d.]+, /);
    });

    it('exits 2 on bad input', async () => {
      const out = join(home, 'bad.html');
      const none = await mlgym(env, 'report', '--out', out);
      expect(none.status).toBe(2);
      expect(none.stderr).toContain('give a run or benchmark id, --runs <ids> or --traj <files>');
      expect((await mlgym(env, 'report', 'x')).status).toBe(2); // --out is required
      const badId = await mlgym(env, 'report', '../etc', '--out', out, '--json');
      expect(badId.status).toBe(2);
      expect(JSON.parse(badId.stdout).error).toContain('expected a run or benchmark id');
      const unknownRun = await mlgym(env, 'report', '--runs', 'bench-unit-nope', '--out', out);
      expect(unknownRun.status).toBe(2);
      expect(unknownRun.stderr).toContain('no run "bench-unit-nope"');
      const missingTraj = await mlgym(env, 'report', '--traj', join(home, 'missing.traj'), '--out', out);
      expect(missingTraj.status).toBe(2);
      expect(missingTraj.stderr).toContain('file not found');
      expect(existsSync(out)).toBe(false);
    });

  });
});
