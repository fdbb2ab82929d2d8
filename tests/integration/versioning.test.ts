import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { benchRunId } from '../../lib/bench/jobs.js';
import type { BenchmarkResult, BenchSpec } from '../../lib/bench/types.js';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import type { RunResult } from '../../lib/run/types.js';
import { docker, labels } from '../../lib/sandbox/docker.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { hostTaskQueue } from '../../lib/temporal/client.js';
import { describeDeployment, runVersion } from '../../lib/temporal/deployment.js';
import { createWorker } from '../../worker.js';
import { mlgym } from '../helpers/cli.js';
import { runInput, startRun } from '../helpers/runs.js';
import { waitFor } from '../helpers/poll.js';
import { useTestTemporal } from '../helpers/temporal.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/versioning/${name}`, import.meta.url));
/** Build B: a new activity before the run, not guarded by patched(); build C: the same change, guarded. */
const WORKFLOWS_B = fixture('workflowsB.ts');
const WORKFLOWS_C = fixture('workflowsC.ts');
/** A replay agent whose first command waits until the test creates .release in its workspace. */
const HOLD = `replay:${fixture('hold.replay.yaml')}`;

const baselineScore = loadTask(taskFile('quickDilemma'), datasetsDir).baseline_scores[0]!.Score!;

const hex = randomBytes(3).toString('hex');
const deployment = `vtest-${hex}`;
const taskQueue = `versioning-${hex}`;
const [A, B, C, D] = ['build-a', 'build-b', 'build-c', 'build-d'];

/** Let a held run go on: create the file its first command waits for, in its container. */
async function release(runId: string): Promise<void> {
  const container = await waitFor(async () => {
    const [info] = await docker().listContainers({ filters: { label: [`${labels.run}=${runId}`, `${labels.role}=agent`] } });
    return info;
  }, `the container of ${runId}`);
  const done = await execIn(container.Id, ['touch', '/home/agent/workspace/.release']);
  expect(done.exitCode).toBe(0);
}

/** The activity types a run's (current execution's) history scheduled, and whether any workflow task failed (a nondeterminism error does). */
async function historyOf(handle: WorkflowHandle) {
  const history = await handle.fetchHistory();
  return {
    activities: history.events!.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name!] : [])),
    failedTasks: history.events!.filter((e) => e.workflowTaskFailedEventAttributes).length,
  };
}

/** The CLI's JSON answer, failing with its stderr when it exits otherwise than `status`. */
async function cli(status: number, ...args: string[]) {
  const r = await mlgym({}, ...args, '--deployment', deployment);
  expect(r.status, r.stderr).toBe(status);
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : undefined };
}

function bench(): BenchSpec {
  return { tasks: ['quickDilemma'], models: [HOLD], seeds: 2, maxSteps: 10, concurrency: 1, noise: {} };
}

describe('Worker Deployment Versioning: runs stay on the build that started them across a deploy', () => {
  const t = useTestTemporal();
  const workers = new Map<string, { worker: Worker; running: Promise<void> }>();
  const preflight = async (runId: string) => `preflight of ${runId}`;

  const versionOf = (buildId: string) => ({ version: { deploymentName: deployment, buildId }, useWorkerVersioning: true as const, defaultVersioningBehavior: 'PINNED' as const });

  /** A worker of `buildId` in this test's deployment; builds B and C run their fixture workflows. */
  async function startWorker(buildId: string, workflowsPath?: string): Promise<void> {
    const worker = await createWorker(t.connection, {
      taskQueue,
      workerDeploymentOptions: versionOf(buildId),
      ...(workflowsPath ? { workflowsPath, activities: { ...createActivities(), preflight } } : {}),
    });
    await joined(buildId, worker);
  }

  /** Run `worker` until the test ends, once the server knows its version (it does once one of its pollers reached it). */
  async function joined(buildId: string, worker: Worker): Promise<void> {
    workers.set(buildId, { worker, running: worker.run() });
    await waitFor(async () => ((await describeDeployment(t.client, 'default', deployment))?.versions.some((v) => v.buildId === buildId) ? true : undefined), `build ${buildId} in ${deployment}`);
  }

  const buildOf = async (workflowId: string) => runVersion(await t.client.workflow.getHandle(workflowId).describe());

  afterAll(async () => {
    for (const { worker, running } of workers.values()) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    }
  });

  let held: WorkflowHandle;
  let toMove: WorkflowHandle;
  let benchId: string;

  it('a run started on build A finishes on A, undisturbed, after build B (an incompatible change) became current; new runs start on B', async () => {
    await startWorker(A);
    const first = await cli(0, 'deployment', 'set-current', A, '--json');
    expect(first.json).toEqual({ deployment, current: A, previous: null });

    held = await startRun(t.client, taskQueue, runInput('quickDilemma', HOLD, { seed: 1 }));
    toMove = await startRun(t.client, taskQueue, runInput('quickDilemma', HOLD, { seed: 2 }));
    benchId = `bench-versioning-${hex}`;
    await t.client.workflow.start('benchmark', { taskQueue, workflowId: benchId, args: [bench()] });
    for (const id of [held.workflowId, toMove.workflowId, benchId]) {
      const version = await waitFor(async () => ((await buildOf(id)).buildId ? buildOf(id) : undefined), `${id} pinned`);
      expect(version).toMatchObject({ behavior: 'pinned', buildId: A, deploymentName: deployment, override: null });
    }

    await startWorker(B, WORKFLOWS_B);
    const deploy = await cli(0, 'deployment', 'set-current', B, '--json');
    expect(deploy.json).toEqual({ deployment, current: B, previous: A });

    // A run started now runs B's code, and names B.
    const after = await startRun(t.client, taskQueue, runInput('quickDilemma', 'baseline'));
    const onB = (await after.result()) as RunResult;
    expect(onB).toMatchObject({ status: 'completed', exitStatus: 'submitted', builds: [B] });
    expect((await historyOf(after)).activities[0]).toBe('preflight');

    // The run in flight since before the deploy goes on with A's code: no nondeterminism error, the baseline's score.
    await release(held.workflowId);
    const onA = (await held.result()) as RunResult;
    expect(onA).toMatchObject({ status: 'completed', exitStatus: 'submitted', steps: 4, builds: [A] });
    expect(onA.submission!.metrics!.Score).toBe(baselineScore);
    const history = await historyOf(held);
    expect(history.failedTasks).toBe(0);
    expect(history.activities).not.toContain('preflight');
    expect(history.activities.filter((a) => a === 'toolExec')).toHaveLength(2);
    expect((await buildOf(held.workflowId)).buildId).toBe(A);
  });

  it("a benchmark started on A starts its later child runs on A too, and every child's result names A", async () => {
    const children = [0, 1].map((seed) => benchRunId(benchId, { task: 'quickDilemma', model: HOLD, seed }));
    await release(children[0]!);
    // With concurrency 1 the second child starts only now, after B became current: it still lands on A.
    const second = await waitFor(async () => ((await buildOf(children[1]!).catch(() => undefined))?.buildId ? buildOf(children[1]!) : undefined), 'the second child run');
    expect(second).toMatchObject({ behavior: 'pinned', buildId: A });
    await release(children[1]!);
    const result = (await t.client.workflow.getHandle(benchId).result()) as BenchmarkResult;
    expect(result.runs.map((r) => [r.runId, r.status])).toEqual(children.map((id) => [id, 'completed']));
    for (const id of children) {
      expect(((await t.client.workflow.getHandle(id).result()) as RunResult).builds).toEqual([A]);
      expect((await historyOf(t.client.workflow.getHandle(id))).failedTasks).toBe(0);
    }
  });

  it('moves an in-flight run to new code that replays its history (C, patched), and refuses code that would not (B)', async () => {
    const refused = await cli(1, 'deployment', 'move', toMove.workflowId, '--to', B, '--workflows', WORKFLOWS_B);
    expect(refused.stderr).toContain('does not replay');
    expect(await buildOf(toMove.workflowId)).toMatchObject({ buildId: A, override: null });

    await startWorker(C, WORKFLOWS_C);
    const moved = await cli(0, 'deployment', 'move', toMove.workflowId, '--to', C, '--workflows', WORKFLOWS_C, '--json');
    expect(moved.json).toMatchObject({ runId: toMove.workflowId, from: { buildId: A, behavior: 'pinned' }, to: C, checked: true });
    expect(await buildOf(toMove.workflowId)).toMatchObject({ behavior: 'pinned', buildId: C, override: 'pinned' });

    await release(toMove.workflowId);
    const result = (await toMove.result()) as RunResult;
    expect(result).toMatchObject({ status: 'completed', exitStatus: 'submitted', steps: 4, builds: [A, C] });
    const history = await historyOf(toMove);
    expect(history.failedTasks).toBe(0);
    // C replayed the run's start on the old branch of its patch: no preflight for a run that had begun.
    expect(history.activities).not.toContain('preflight');

    // A ramp sends a share of new runs to a build; `none` stops it.
    expect((await cli(0, 'deployment', 'ramp', C, '25', '--json')).json).toEqual({ deployment, ramping: C, percent: 25 });
    expect((await cli(0, 'deployment', 'list', '--json')).json.ramping).toEqual({ buildId: C, percent: 25 });
    await cli(0, 'deployment', 'ramp', 'none', '0', '--json');
    expect((await cli(0, 'deployment', 'list', '--json')).json.ramping).toBeNull();
  });

  it('drains A (the current build cannot be drained): no open run is left on it, and its worker stops cleanly', async () => {
    const current = await cli(2, 'deployment', 'drain', B);
    expect(current.stderr).toContain('is the current version');

    const drained = await cli(0, 'deployment', 'drain', A, '--wait', '--json');
    expect(drained.json).toMatchObject({ buildId: A, drained: true, open: [] });
    const a = workers.get(A)!;
    a.worker.shutdown();
    await a.running;
    expect(a.worker.getState()).toBe('STOPPED');

    const list = (await cli(0, 'deployment', 'list', '--json')).json;
    expect(list).toMatchObject({ deployment, exists: true, current: B, propagating: false });
    const byBuild = Object.fromEntries(list.versions.map((v: { buildId: string; status: string; openRuns: number }) => [v.buildId, v]));
    expect(Object.keys(byBuild).sort()).toEqual([A, B, C]);
    expect(byBuild[A]).toMatchObject({ openRuns: 0 });
    expect(byBuild[B]).toMatchObject({ status: 'current' });
  });

  it("refuses to send new runs, or move a run, to a build that does not serve every task queue of the current one, naming the queues it lacks", async () => {
    // D's worker runs activities on the shared queue only: no workflows, no host queue.
    await joined(D, await Worker.create({ connection: t.connection, taskQueue, activities: { preflight }, workerDeploymentOptions: versionOf(D) }));
    const missing = [`${taskQueue} (workflow)`, `${hostTaskQueue(taskQueue)} (activity)`];
    for (const change of [['set-current', D], ['ramp', D, '10']]) {
      const refused = await cli(2, 'deployment', ...change, '--wait', '1');
      for (const queue of missing) expect(refused.stderr).toContain(queue);
      expect(refused.stderr).not.toContain(`${taskQueue} (activity)`);
    }
    expect((await cli(0, 'deployment', 'list', '--json')).json).toMatchObject({ current: B, ramping: null });

    // Nor is a run moved there: it stays on B and finishes there.
    const run = await startRun(t.client, taskQueue, runInput('quickDilemma', HOLD, { seed: 3 }));
    await waitFor(async () => ((await buildOf(run.workflowId)).buildId === B ? true : undefined), `${run.workflowId} pinned`);
    const refused = await cli(2, 'deployment', 'move', run.workflowId, '--to', D, '--no-check', '--wait', '1');
    for (const queue of missing) expect(refused.stderr).toContain(queue);
    expect(await buildOf(run.workflowId)).toMatchObject({ buildId: B, override: null });
    await release(run.workflowId);
    expect(await run.result()).toMatchObject({ status: 'completed', builds: [B] });
  });
});
