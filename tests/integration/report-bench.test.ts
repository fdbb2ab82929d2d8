import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchmarkResult, BenchSpec } from '../../lib/bench/types.js';
import { loadReplay } from '../../lib/agent/replay.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { repoRoot } from '../../lib/home.js';
import { readTrajectory } from '../../lib/run/records.js';
import { MlgymBenchId } from '../../lib/temporal/searchAttributes.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { writeBenchmark } from '../helpers/reportFixtures.js';
import { mlgym } from '../helpers/cli.js';

const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;


describe('mlgym report <benchId> through the Temporal server', () => {
  const t = useTestTemporal();
  const started: string[] = [];
  afterAll(async () => {
    for (const id of started) await t.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  });

  it('reports a running benchmark over the child runs it has started so far', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mlgym-report-bench-'));
    const benchId = unique('bench-running');
    const runIds = (await writeBenchmark(new ArtifactStore(join(home, 'artifacts')), benchId)).map((r) => r.runId).slice(0, 2);
    const neverRan = `${benchId}-blotto-gpt-4o-s0`;
    // No worker polls this queue: the benchmark and its "children" stay running, as when they are still going.
    const taskQueue = unique('report-idle');
    started.push(benchId);
    await t.client.workflow.start('benchmark', { taskQueue, workflowId: benchId, args: [{}], typedSearchAttributes: [{ key: MlgymBenchId, value: benchId }] });
    for (const runId of [...runIds, neverRan]) {
      started.push(runId);
      await t.client.workflow.start('agentRun', { taskQueue, workflowId: runId, args: [{}], typedSearchAttributes: [{ key: MlgymBenchId, value: benchId }] });
    }
    const deadline = Date.now() + 30_000;
    while ((await t.client.workflow.count(`WorkflowType = 'agentRun' AND MlgymBenchId = '${benchId}'`)).count < 3) {
      if (Date.now() > deadline) throw new Error('the child runs never showed in the visibility store');
      await new Promise((r) => setTimeout(r, 250));
    }

    const out = join(home, 'bench.html');
    const r = await mlgym({ MLGYM_HOME: home }, 'report', benchId, '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`benchmark ${benchId} is running: reporting the 3 run(s) started so far`);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'benchmark', runs: [...runIds, neverRan].sort() });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain(`<h1>Benchmark ${benchId}</h1>`);
    expect(html).toContain(`/namespaces/default/workflows/${benchId}"`);
    expect(html).toContain(`no records in ${join(home, 'artifacts')}`);
  });

  it('reports a completed benchmark over the runs of its result, and exports one of them', async () => {
    const benchId = unique('bench-report');
    const taskQueue = unique('report-bench');
    const spec: BenchSpec = { tasks: ['quickDilemma'], models: ['baseline'], seeds: 1, maxSteps: 10, concurrency: 1, noise: {} };
    const worker = await t.worker(taskQueue);
    const result = (await worker.runUntil(async () => (await t.client.workflow.start('benchmark', { taskQueue, workflowId: benchId, args: [spec] })).result())) as BenchmarkResult;
    const runId = result.runs[0]!.runId;
    const home = process.env.MLGYM_HOME!;

    const out = join(mkdtempSync(join(tmpdir(), 'mlgym-report-bench-')), 'bench.html');
    const r = await mlgym({}, 'report', benchId, '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ kind: 'benchmark', runs: [runId], tasks: ['quickDilemma'], models: ['baseline'] });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain(`<section class="trajectory always" id="run-${runId}">`);
    expect(html).toContain('python3 -c &#34;import strategy&#34;');
    expect(html).toContain(`/namespaces/default/workflows/${runId}"`);

    // The real run's records round-trip through MLGym's .traj into a replay file with the same actions.
    const exportDir = join(home, unique('export'));
    expect((await mlgym({}, 'export', runId, '--out', exportDir)).status).toBe(0);
    const replay = join(exportDir, 'replay.yaml');
    expect((await mlgym({}, 'import', join(exportDir, 'quickDilemma.traj'), '--out', replay)).status).toBe(0);
    const store = new ArtifactStore();
    const turns = (await readTrajectory(store, runId)).filter((s) => s.action).map((s) => s.action);
    expect(turns).toEqual(['python3 -c "import strategy"', 'validate', 'submit']);
    expect(loadReplay(replay).map((s) => s.action)).toEqual(turns);
  });

  it('exits 2 for an id that is neither a run nor a benchmark on the Temporal server', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mlgym-report-none-'));
    const r = await mlgym({ MLGYM_HOME: home }, 'report', 'bench-that-never-was', '--out', join(home, 'none.html'));
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('no run "bench-that-never-was"');
    expect(r.stderr).toContain('no benchmark "bench-that-never-was" on the Temporal server');
  });
});
