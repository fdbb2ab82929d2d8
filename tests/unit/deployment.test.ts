import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import proto from '@temporalio/proto';
import { parse as parseYaml } from 'yaml';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { exportRun } from '../../lib/interop/export.js';
import { buildCounts, buildLabel, onBuild } from '../../lib/report/builds.js';
import { readRunRecords } from '../../lib/report/records.js';
import { runFromRecords } from '../../lib/report/run.js';
import { runFromTraj } from '../../lib/report/trajRun.js';
import { recordName } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import {
  codeBuildId,
  contentBuildId,
  DeploymentError,
  isBuildId,
  openOnVersionQuery,
  runBuilds,
  runVersion,
  versioningOptions,
  workerDeployment,
} from '../../lib/temporal/deployment.js';
import { mlgym } from '../helpers/cli.js';
import { writeRun, type RunSpec } from '../helpers/reportFixtures.js';

const { VersioningBehavior } = proto.temporal.api.enums.v1;

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** A copy of the code layout the build id hashes, and files it ignores. */
function codeTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'mlgym-build-'));
  write(join(root, 'workflows/agentRun.ts'), 'export async function agentRun() {}\n');
  write(join(root, 'activities/score.ts'), 'export const score = 1;\n');
  write(join(root, 'lib/run/types.ts'), 'export type X = 1;\n');
  write(join(root, 'docker/runtime/session.py'), 'print("session")\n');
  write(join(root, 'worker.ts'), 'export {};\n');
  return root;
}

describe('build ids', () => {
  it('are a 12-hex-digit content hash of the code: stable, changed by any code file, blind to caches and docs', () => {
    const root = codeTree();
    const id = contentBuildId(root);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(contentBuildId(root)).toBe(id);

    write(join(root, 'docker/runtime/__pycache__/session.cpython-311.pyc'), 'bytecode');
    write(join(root, 'lib/.cache/x'), 'cache');
    write(join(root, 'docs/versioning.md'), '# docs');
    write(join(root, 'tasks/t/task.yaml'), 'id: t');
    expect(contentBuildId(root)).toBe(id);

    write(join(root, 'docker/runtime/session.py'), 'print("session v2")\n');
    const changed = contentBuildId(root);
    expect(changed).not.toBe(id);
    write(join(root, 'lib/run/new.ts'), 'export {};\n');
    expect(contentBuildId(root)).not.toBe(changed);
  });

  it("this checkout's is computed once, unless MLGYM_BUILD_ID names it", () => {
    const saved = process.env.MLGYM_BUILD_ID;
    try {
      delete process.env.MLGYM_BUILD_ID;
      expect(codeBuildId()).toMatch(/^[0-9a-f]{12}$/);
      expect(codeBuildId()).toBe(codeBuildId());
      process.env.MLGYM_BUILD_ID = 'release-7';
      expect(codeBuildId()).toBe('release-7');
    } finally {
      if (saved === undefined) delete process.env.MLGYM_BUILD_ID;
      else process.env.MLGYM_BUILD_ID = saved;
    }
  });

  it('are ids, and not the words that name no build', () => {
    expect(isBuildId('3fa9c1d2e4b5')).toBe(true);
    expect(isBuildId('v1.2.3_rc-1')).toBe(true);
    for (const bad of ['', 'a b', 'a:b', 'a/b', 'unversioned', 'none', 'unrecorded', 'x'.repeat(101)]) expect(isBuildId(bad), bad).toBe(false);
  });
});

describe("a worker's deployment version", () => {
  it('defaults to deployment mlgym (the task queue) and the code hash, promoting a new build; MLGYM_DEPLOYMENT only if none is current', () => {
    const build = codeBuildId();
    expect(workerDeployment({})).toEqual({ version: { deploymentName: 'mlgym', buildId: build }, promote: 'if-new' });
    expect(workerDeployment({ MLGYM_DEPLOYMENT: 'prod', MLGYM_BUILD_ID: 'b7' })).toEqual({ version: { deploymentName: 'prod', buildId: 'b7' }, promote: 'if-none' });
    expect(workerDeployment({ MLGYM_VERSIONING: 'off' })).toBeUndefined();
    expect(() => workerDeployment({ MLGYM_DEPLOYMENT: 'a.b' })).toThrow(DeploymentError);
    expect(() => workerDeployment({ MLGYM_BUILD_ID: 'a b' })).toThrow(DeploymentError);
  });

  it('sets PINNED versioning and the build-recording interceptor; keeps a caller’s explicit version; nothing when off', () => {
    const saved = process.env.MLGYM_VERSIONING;
    try {
      delete process.env.MLGYM_VERSIONING;
      const byDefault = versioningOptions({});
      expect(byDefault.options.workerDeploymentOptions).toEqual({ version: { deploymentName: 'mlgym', buildId: codeBuildId() }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' });
      expect(byDefault.options.interceptors?.activity).toHaveLength(1);
      expect(byDefault.deployment?.promote).toBe('if-new');

      const explicit = { version: { deploymentName: 'd', buildId: 'b' }, useWorkerVersioning: true as const, defaultVersioningBehavior: 'PINNED' as const };
      const given = versioningOptions({ workerDeploymentOptions: explicit });
      expect(given.options.workerDeploymentOptions).toBe(explicit);
      expect(given.deployment).toBeUndefined();

      process.env.MLGYM_VERSIONING = 'off';
      expect(versioningOptions({})).toEqual({ options: {} });
    } finally {
      if (saved === undefined) delete process.env.MLGYM_VERSIONING;
      else process.env.MLGYM_VERSIONING = saved;
    }
  });
});

describe('which builds ran a run', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlgym-builds-'));
  const saved = { home: process.env.MLGYM_HOME, artifacts: process.env.MLGYM_ARTIFACTS };
  beforeAll(() => {
    process.env.MLGYM_HOME = home;
    delete process.env.MLGYM_ARTIFACTS;
  });
  afterAll(() => {
    for (const [key, value] of [['MLGYM_HOME', saved.home], ['MLGYM_ARTIFACTS', saved.artifacts]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("each versioned worker records its build once per run, before the run's activity executes; other workflows' activities are not runs", async () => {
    const factory = (build: string) => versioningOptions({ workerDeploymentOptions: { version: { deploymentName: 'd', buildId: build }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' } }).options.interceptors!.activity![0]!;
    const ctx = (workflowType: string, workflowId: string) => ({ info: { workflowType, workflowExecution: { workflowId, runId: 'r' }, activityType: 'provision' } }) as never;
    const store = new ArtifactStore();
    const a = factory('build-a');
    const executed: string[] = [];
    const next = async () => void executed.push('ran');
    for (let i = 0; i < 3; i++) await a(ctx('agentRun', 'run-one')).inbound!.execute!({ args: [], headers: {} }, next);
    await factory('build-c')(ctx('agentRun', 'run-one')).inbound!.execute!({ args: [], headers: {} }, next);
    await a(ctx('benchmark', 'bench-one')).inbound!.execute!({ args: [], headers: {} }, next);
    expect(executed).toHaveLength(5);
    expect(await runBuilds(store, 'run-one')).toEqual(['build-a', 'build-c']);
    expect(await runBuilds(store, 'bench-one')).toEqual([]);
    expect(await store.readJson('run-one', 'builds/build-a.json')).toMatchObject({ buildId: 'build-a', deploymentName: 'd', activity: 'provision' });
  });
});

describe('where a workflow runs', () => {
  const description = (versioningInfo: object) => ({ raw: { workflowExecutionInfo: { versioningInfo } } }) as unknown as WorkflowExecutionDescription;

  it('reads pinned, auto-upgrade and moved runs from the description; the drain query names the version', () => {
    expect(runVersion(description({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, deploymentVersion: { deploymentName: 'mlgym', buildId: 'a' } }))).toEqual({
      behavior: 'pinned',
      buildId: 'a',
      deploymentName: 'mlgym',
      override: null,
    });
    const moved = description({
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
      deploymentVersion: { deploymentName: 'mlgym', buildId: 'a' },
      versioningOverride: { pinned: { version: { deploymentName: 'mlgym', buildId: 'c' } } },
    });
    expect(runVersion(moved)).toEqual({ behavior: 'pinned', buildId: 'c', deploymentName: 'mlgym', override: 'pinned' });
    expect(runVersion(description({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, deploymentVersion: { deploymentName: 'mlgym', buildId: 'b' } })).behavior).toBe('auto-upgrade');
    expect(runVersion(description({}))).toEqual({ behavior: 'unversioned', buildId: null, deploymentName: null, override: null });
    expect(openOnVersionQuery({ deploymentName: 'mlgym', buildId: 'a' })).toBe("TemporalWorkerDeploymentVersion = 'mlgym:a' AND ExecutionStatus = 'Running'");
  });
});

describe('builds in reports and exports', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlgym-report-builds-'));
  const store = new ArtifactStore(join(home, 'artifacts'));
  const env = { MLGYM_HOME: home, MLGYM_ARTIFACTS: undefined };
  const spec = (runId: string, score: number): RunSpec => ({
    runId,
    task: 'prisonersDilemma',
    model: runId.includes('gpt') ? 'gpt-4o' : 'baseline',
    metric: 'Score',
    direction: 'max',
    baseline: 2.37,
    steps: [{ action: 'validate', score }, { action: 'submit', score }],
  });
  const runs: [string, string[] | undefined][] = [
    ['run-gpt-a', ['aaa']],
    ['run-base-a', ['aaa']],
    ['run-gpt-b', ['bbb']],
    ['run-base-ab', ['aaa', 'bbb']],
    ['run-old', undefined],
  ];

  beforeAll(async () => {
    for (const [i, [runId, builds]] of runs.entries()) {
      const result = await writeRun(store, spec(runId, 2.4 + i / 10));
      if (builds) await store.writeJson(runId, recordName.result, { ...result, builds } satisfies RunResult);
    }
  });

  it('labels runs by build (a moved run by both), counts them, and keeps only the runs entirely on one build', () => {
    const reportRuns = runs.map(([id, builds]) => ({ id, ...(builds ? { builds } : {}) }));
    expect(reportRuns.map(buildLabel)).toEqual(['aaa', 'aaa', 'bbb', 'aaa+bbb', 'unrecorded']);
    expect(buildLabel({ builds: [] })).toBe('unversioned');
    expect(buildCounts(reportRuns)).toEqual({ aaa: 2, bbb: 1, 'aaa+bbb': 1, unrecorded: 1 });
    const { kept, excluded } = onBuild(reportRuns, 'aaa');
    expect(kept.map((r) => r.id)).toEqual(['run-gpt-a', 'run-base-a']);
    expect(excluded.map((r) => r.id)).toEqual(['run-gpt-b', 'run-base-ab', 'run-old']);
  });

  it('a report run has its builds: from the result, or while it runs from the records the workers left', async () => {
    expect(runFromRecords(await readRunRecords(store, 'run-base-ab'), 'x').builds).toEqual(['aaa', 'bbb']);
    expect(runFromRecords(await readRunRecords(store, 'run-old'), 'x').builds).toBeUndefined();
    await store.writeJson('run-going', 'builds/ccc.json', { buildId: 'ccc' });
    expect(runFromRecords(await readRunRecords(store, 'run-going'), 'x').builds).toEqual(['ccc']);
  });

  it('mlgym report warns when runs mix builds, and --build restricts the report (and its AUP) to one', async () => {
    const ids = runs.map(([id]) => id).join(',');
    const out = join(home, 'all.html');
    const mixed = await mlgym(env, 'report', '--runs', ids, '--out', out, '--json');
    expect(mixed.status, mixed.stderr).toBe(0);
    expect(mixed.stderr).toContain('warning: these runs ran on 4 different builds: aaa (2 runs), bbb (1 run), aaa+bbb (1 run), unrecorded (1 run)');
    expect(JSON.parse(mixed.stdout).builds).toEqual({ aaa: 2, bbb: 1, 'aaa+bbb': 1, unrecorded: 1 });
    expect(readFileSync(out, 'utf8')).toContain('These runs ran on 4 builds of the code');

    const one = await mlgym(env, 'report', '--runs', ids, '--out', join(home, 'aaa.html'), '--build', 'aaa', '--json');
    expect(one.status, one.stderr).toBe(0);
    expect(one.stderr).toContain('left out 3 run(s) not entirely on build aaa: bbb (1 run), aaa+bbb (1 run), unrecorded (1 run)');
    const json = JSON.parse(one.stdout);
    expect(json.runs).toEqual(['run-gpt-a', 'run-base-a']);
    expect(json.builds).toEqual({ aaa: 2 });
    expect(Object.keys(json.aup.bestSubmission).sort()).toEqual(['baseline', 'baseline-agent', 'gpt-4o']);
    expect(readFileSync(join(home, 'aaa.html'), 'utf8')).toContain('build aaa');

    const none = await mlgym(env, 'report', '--runs', ids, '--out', join(home, 'none.html'), '--build', 'zzz');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no run here ran entirely on build "zzz"');
  });

  it('mlgym export writes the builds into the .traj, results.json and args.yaml; a report of the .traj filters on them', async () => {
    const out = join(home, 'export');
    const { files } = await exportRun(store, 'run-base-ab', out);
    expect(JSON.parse(readFileSync(files.traj, 'utf8')).info.builds).toEqual(['aaa', 'bbb']);
    expect(JSON.parse(readFileSync(files.results, 'utf8')).builds).toEqual(['aaa', 'bbb']);
    expect(parseYaml(readFileSync(files.args, 'utf8')).builds).toEqual(['aaa', 'bbb']);
    expect(runFromTraj(files.traj).builds).toEqual(['aaa', 'bbb']);
    const old = await exportRun(store, 'run-old', join(home, 'export-old'));
    expect(JSON.parse(readFileSync(old.files.traj, 'utf8')).info.builds).toBeUndefined();
  });
});

describe('mlgym deployment and mlgym worker: bad input exits 2 before reaching a server', () => {
  const env = { MLGYM_BUILD_ID: undefined, MLGYM_DEPLOYMENT: undefined, TEMPORAL_ADDRESS: '127.0.0.1:1' };
  it.each([
    [['deployment', 'ramp', 'abc', '150'], 'percentage from 0 to 100'],
    [['deployment', 'ramp', 'a b', '10'], 'expected a build id'],
    [['deployment', 'set-current', 'a:b'], 'expected a build id'],
    [['deployment', 'set-current', 'b', '--wait', '-1'], '--wait expects an integer >= 0'],
    [['deployment', 'ramp', 'b', '10', '--wait', 'soon'], '--wait expects an integer >= 0'],
    [['deployment', 'drain', 'none'], 'expected a build id'],
    [['deployment', 'move', 'run-1'], 'exactly one of --to <build> or --auto-upgrade'],
    [['deployment', 'move', 'run-1', '--to', 'b', '--auto-upgrade'], 'exactly one of --to <build> or --auto-upgrade'],
    [['deployment', 'list', '--deployment', 'a.b'], '--deployment expects'],
    [['worker', '--build-id', 'a b'], 'invalid build id'],
    [['worker', '--deployment', 'a.b'], 'invalid deployment name'],
  ])('mlgym %j', async (args, message) => {
    const r = await mlgym(env, ...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
