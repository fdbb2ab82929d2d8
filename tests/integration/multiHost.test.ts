import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import type { BenchmarkResult, BenchSpec } from '../../lib/bench/types.js';
import { readAttempts, readMigrations, readTrajectory, recordName } from '../../lib/run/records.js';
import type { ProvisionResult, RunResult, RunStatus } from '../../lib/run/types.js';
import { labels } from '../../lib/sandbox/docker.js';
import { hostId, hostQueueOf, hostTaskQueue } from '../../lib/temporal/client.js';
import { mlgym } from '../helpers/cli.js';
import { startFakeOpenAI } from '../helpers/fakeOpenAI.js';
import { runInput, startRun } from '../helpers/runs.js';
import { s3Env, testS3Store } from '../helpers/s3.js';
import { copyImage, defaultEngineBuilds, engineB, startSecondEngine, type SecondEngine } from '../helpers/secondEngine.js';
import { waitFor } from '../helpers/poll.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activities that touch the run's container: they must run on the host that holds it. */
const CONTAINER_ACTIVITIES = ['toolExec', 'validate', 'submit', 'snapshot', 'teardown'];

interface ActivityRun {
  type: string;
  taskQueue: string;
  /** Identities of the workers that started its attempts (`<pid>@<hostname>`). */
  startedBy: string[];
  completed: boolean;
}

function activities(events: HistoryEvent[]): ActivityRun[] {
  const byId = new Map<string, ActivityRun>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) byId.set(String(e.eventId), { type: scheduled.activityType!.name!, taskQueue: scheduled.taskQueue!.name!, startedBy: [], completed: false });
    const started = e.activityTaskStartedEventAttributes;
    if (started) byId.get(String(started.scheduledEventId))!.startedBy.push(started.identity!);
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) byId.get(String(completed.scheduledEventId))!.completed = true;
  }
  return [...byId.values()];
}

async function provisionResult(handle: WorkflowHandle): Promise<ProvisionResult | undefined> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'provision');
  const done = scheduled && events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled.eventId));
  const data = done?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString()) as ProvisionResult) : undefined;
}

/** The engines on which a container of the run was created (Docker's event log since the test began). */
async function enginesThatRan(runId: string, engines: Record<string, Docker>, since: number): Promise<string[]> {
  const found: string[] = [];
  for (const [name, engine] of Object.entries(engines)) {
    const stream = await engine.getEvents({ since, until: Math.ceil(Date.now() / 1000), filters: { type: ['container'], event: ['create'], label: [`${labels.run}=${runId}`] } });
    let text = '';
    for await (const chunk of stream as unknown as AsyncIterable<Buffer>) text += chunk.toString();
    if (text.trim()) found.push(name);
  }
  return found;
}

/**
 * Two worker hosts, each a worker process with its own Docker engine (DOCKER_HOST) and host id (MLGYM_HOST_ID),
 * against one Temporal server and one S3 artifact store. Host A provisions run 1 and dies; host B provisions run 2
 * and runs it to the end while run 1's container work waits for host A, which comes back and finishes it.
 */
describe('runs on two Docker hosts', () => {
  const t = useTestTemporal();
  const suffix = randomBytes(3).toString('hex');
  const queue = `multi-host-${suffix}`;
  const bucket = `multi-host-${suffix}`;
  const hostA = `host-a-${suffix}`;
  const hostB = `host-b-${suffix}`;
  const workers: ChildProcess[] = [];
  /** Worker identities (`<pid>@<hostname>`) by host id. */
  const identities: Record<string, string[]> = { [hostA]: [], [hostB]: [] };
  const handles: WorkflowHandle[] = [];
  let second: SecondEngine | undefined;
  const since = Math.floor(Date.now() / 1000) - 1;

  async function startHost(host: string, env: Record<string, string>): Promise<ChildProcess> {
    const home = mkdtempSync(join(tmpdir(), `mlgym-${host}-`));
    const worker = await startWorkerProcess({ TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!, MLGYM_HOME: home, MLGYM_TASK_QUEUE: queue, MLGYM_HOST_ID: host, ...s3Env(bucket), ...env });
    workers.push(worker);
    identities[host]!.push(`${worker.pid}@${hostname()}`);
    homes.push(home);
    return worker;
  }
  const homes: string[] = [];

  beforeAll(async () => {
    second = await startSecondEngine(join(process.env.MLGYM_HOME!, 'docker-b.log'));
    await copyImage('mlgym-base:latest', new Docker(), engineB());
    await testS3Store(bucket);
  });

  afterAll(async () => {
    for (const h of handles) await h.terminate('test over').catch(() => undefined);
    for (const w of workers) await killHard(w);
    await second?.stop();
    // The default engine's network must be untouched: it still builds.
    await defaultEngineBuilds();
  });

  it("sends each run's container activities to the host holding its container, and a run waits for its host", async () => {
    const engines = { [hostA]: new Docker(), [hostB]: engineB() };
    // A host timeout longer than this test: run 1 waits for its host instead of moving (the next test moves runs).
    const run1 = runInput('quickDilemma', 'baseline', { seed: 1, heartbeatTimeoutS: 2, hostTimeoutS: 3600 });
    const run2 = runInput('quickDilemma', 'baseline', { seed: 2, heartbeatTimeoutS: 2 });

    // Host A alone: it provisions run 1, then dies.
    let workerA = await startHost(hostA, {});
    const handle1 = await startRun(t.client, queue, run1);
    handles.push(handle1);
    const provisioned1 = await waitFor(() => provisionResult(handle1), 'run 1 provisioned');
    expect(provisioned1.hostQueue).toBe(`${queue}@${hostA}`);
    await killHard(workerA);

    // Host B alone: it provisions run 2 and runs it to the end; run 1's container work waits for host A.
    await startHost(hostB, { DOCKER_HOST: second!.dockerHost });
    const handle2 = await startRun(t.client, queue, run2);
    handles.push(handle2);
    const result2 = (await handle2.result()) as RunResult;
    expect(result2.exitStatus).toBe('submitted');
    expect((await provisionResult(handle2))?.hostQueue).toBe(`${queue}@${hostB}`);
    // Run 1 goes on (host B runs its workflow tasks and shared activities) to its next container activity, which
    // waits on host A's queue.
    const waiting = await waitFor(async () => {
      const scheduled = activities((await handle1.fetchHistory()).events ?? []).filter((a) => CONTAINER_ACTIVITIES.includes(a.type));
      return scheduled.length ? scheduled : undefined;
    }, 'run 1 to schedule a container activity');
    expect((await handle1.describe()).status.name).toBe('RUNNING');
    expect(waiting.every((a) => a.taskQueue === `${queue}@${hostA}` && a.startedBy.every((id) => identities[hostA]!.includes(id)))).toBe(true);
    expect(waiting.some((a) => !a.completed)).toBe(true);

    // Host A comes back (same host id, so the same queue): run 1 goes on there and ends.
    workerA = await startHost(hostA, {});
    const result1 = (await handle1.result()) as RunResult;
    expect(result1.exitStatus).toBe('submitted');

    for (const [run, handle, host] of [
      [run1, handle1, hostA],
      [run2, handle2, hostB],
    ] as const) {
      const acts = activities((await handle.fetchHistory()).events ?? []);
      const onHost = acts.filter((a) => CONTAINER_ACTIVITIES.includes(a.type));
      expect(onHost.map((a) => a.type)).toEqual(['toolExec', 'validate', 'submit', 'teardown']);
      for (const a of onHost) {
        expect(a.taskQueue, `${run.runId} ${a.type}`).toBe(`${queue}@${host}`);
        expect(a.startedBy.length, `${run.runId} ${a.type}`).toBeGreaterThan(0);
        expect(a.startedBy.every((id) => identities[host]!.includes(id)), `${run.runId} ${a.type} started by ${a.startedBy.join(', ')}`).toBe(true);
      }
      // The shared activities stay on the shared queue (any host may run them).
      expect(acts.filter((a) => !CONTAINER_ACTIVITIES.includes(a.type)).every((a) => a.taskQueue === queue)).toBe(true);
      // The container was made on that host's engine only.
      expect(await enginesThatRan(run.runId, engines, since)).toEqual([host]);
    }

    // Every record is in the shared store; no host wrote artifacts locally.
    const store = new ArtifactStore(await testS3Store(bucket));
    for (const run of [run1, run2]) {
      expect(await store.readJson<RunResult>(run.runId, recordName.result)).toMatchObject({ exitStatus: 'submitted' });
      expect((await readAttempts(store, run.runId)).map((a) => a.kind)).toEqual(['validate', 'submit']);
    }
    for (const home of homes) expect(existsSync(join(home, 'artifacts')) ? readdirSync(join(home, 'artifacts')) : []).toEqual([]);
  }, 600_000);

  it("moves a lost host's runs: host B's worker and engine stop mid-run, its benchmark runs finish on host A as undisturbed, no model call repeated", async () => {
    // Each run writes a line per step; past the snapshot of step 10, step 12 sleeps (the hosts die then); step 13's
    // strategy depends on there being exactly 13 lines, so a workspace rebuilt wrong scores differently.
    const script = [
      ...Array.from({ length: 12 }, (_, i) => `echo step-${i} >> steps.txt`),
      'sleep 20; echo step-12 >> steps.txt',
      `if [ "$(wc -l < steps.txt)" -eq 13 ]; then move=0; else move=1; fi; printf 'def row_strategy(history):\\n    return %s\\n' "$move" > strategy.py`,
      'validate',
      'submit',
    ];
    const calls: string[] = [];
    const fake = await startFakeOpenAI((request) => {
      const step = request.messages.filter((m) => m.role === 'assistant').length;
      calls.push(`${request.model} ${step}`);
      return { reply: `DISCUSSION\nstep ${step}\n\n\`\`\`\n${script[step] ?? 'submit'}\n\`\`\`` };
    });
    const llm = { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'test-key' };
    const models = ['openai:move-0', 'openai:move-1'];
    try {
      for (const w of workers) await killHard(w); // the hosts of the test before
      // Host B alone takes the benchmark's runs; then host A joins, and host B's worker and engine stop during step 12.
      const workerB = await startHost(hostB, { DOCKER_HOST: second!.dockerHost, ...llm });
      const benchId = `bench-move-${suffix}`;
      const spec: BenchSpec = { tasks: ['quickDilemma'], models, seeds: 1, maxSteps: 20, concurrency: 2, budgetUsd: 10, noise: {}, hostTimeoutS: 5 };
      const bench = await t.client.workflow.start('benchmark', { taskQueue: queue, workflowId: benchId, args: [spec] });
      handles.push(bench);
      const runIds = await waitFor(async () => {
        const ids: string[] = [];
        for await (const w of t.client.workflow.list({ query: `WorkflowType = 'agentRun' AND MlgymBenchId = '${benchId}'` })) ids.push(w.workflowId);
        return ids.length === 2 ? ids.sort() : undefined;
      }, 'the benchmark started its runs');
      const runs = runIds.map((id) => t.client.workflow.getHandle(id));
      for (const run of runs) expect((await waitFor(() => provisionResult(run), 'provisioned')).hostQueue).toBe(`${queue}@${hostB}`);
      await startHost(hostA, llm);
      for (const run of runs) {
        await waitFor(async () => {
          const s = await run.query<RunStatus>('status');
          return s.step === 12 && s.lastAction.startsWith('sleep 20') ? s : undefined;
        }, `${run.workflowId} in step 12`);
      }
      await killHard(workerB);
      await second!.stop();

      const result = (await bench.result()) as BenchmarkResult;
      // Undisturbed: the same script on host A alone.
      const calm = runInput('quickDilemma', 'openai:move-calm', { maxSteps: 20, budgetUsd: 10 });
      handles.push(await startRun(t.client, queue, calm));
      const calmResult = (await t.client.workflow.getHandle(calm.runId).result()) as RunResult;
      expect(calmResult.exitStatus).toBe('submitted');
      expect(result.runs.map((r) => r.exitStatus)).toEqual(['submitted', 'submitted']);

      const store = new ArtifactStore(await testS3Store(bucket));
      for (const run of runs) {
        const runResult = (await store.readJson<RunResult>(run.workflowId, recordName.result))!;
        expect(runResult.submission!.metrics, run.workflowId).toEqual(calmResult.submission!.metrics);
        expect(runResult.attempts.map((a) => a.metrics)).toEqual(calmResult.attempts.map((a) => a.metrics));
        // Moved once, from B to A, after 12 steps: the snapshot of step 10 restored, steps 10 and 11 re-run as recorded.
        const [moved, ...more] = await readMigrations(store, run.workflowId);
        expect(more).toEqual([]);
        expect(moved).toMatchObject({ index: 0, step: 12, from: `${queue}@${hostB}`, to: `${queue}@${hostA}`, snapshot: 10 });
        expect(moved!.replayed.map((r) => [r.step, r.exitCode, r.recordedExitCode])).toEqual([
          [10, 0, 0],
          [11, 0, 0],
        ]);
        // The trajectory says which steps ran again, and where.
        const rerun = (await readTrajectory(store, run.workflowId)).filter((step) => step.rerunOn);
        expect(rerun.map((step) => [step.step, step.rerunOn])).toEqual([
          [10, [`${queue}@${hostA}`]],
          [11, [`${queue}@${hostA}`]],
        ]);
        expect(await run.query<RunStatus>('status')).toMatchObject({ migrations: 1, hostQueue: `${queue}@${hostA}` });
        const shown = await mlgym(s3Env(bucket), 'show', run.workflowId);
        expect(shown.stderr.split('\n').filter((l) => l.includes('re-run on'))).toEqual([10, 11].map((step) => expect.stringMatching(new RegExp(`^--- step ${step} .*re-run on ${queue}@${hostA} after a lost host$`))));
        // Container work before the move ran on B, after it on A; the move itself on A.
        const acts = activities((await run.fetchHistory()).events ?? []);
        const migrate = acts.findIndex((a) => a.type === 'migrate');
        expect(acts[migrate]!.completed && acts[migrate]!.startedBy.every((id) => identities[hostA]!.includes(id))).toBe(true);
        const container = (a: ActivityRun) => CONTAINER_ACTIVITIES.includes(a.type) && a.completed;
        expect(acts.slice(0, migrate).filter(container).every((a) => a.taskQueue === `${queue}@${hostB}`)).toBe(true);
        expect(acts.slice(migrate).filter(container).map((a) => a.taskQueue)).toEqual(expect.arrayContaining([`${queue}@${hostA}`]));
        expect(acts.slice(migrate).filter(container).every((a) => a.taskQueue === `${queue}@${hostA}`)).toBe(true);
      }
      // No model call was made twice: each run asked once per step.
      for (const model of [...models, 'openai:move-calm']) {
        const steps = calls.filter((c) => c.startsWith(`${model.slice('openai:'.length)} `)).map((c) => Number(c.split(' ')[1]));
        expect(steps, model).toEqual(Array.from({ length: script.length }, (_, i) => i));
      }
    } finally {
      await fake.close();
    }
  }, 900_000);

  it('names host queues after MLGYM_HOST_ID, else the hostname', () => {
    expect(hostId({ MLGYM_HOST_ID: 'gpu-node-7' })).toBe('gpu-node-7');
    expect(hostId({})).toBe(hostname());
    expect(() => hostId({ MLGYM_HOST_ID: 'a/b' })).toThrow(/MLGYM_HOST_ID/);
    expect(hostTaskQueue('mlgym', 'h1')).toBe('mlgym@h1');
    expect(hostQueueOf('mlgym', 'h1')).toBe('mlgym@h1');
    expect(hostQueueOf('mlgym@h0', 'h1')).toBe('mlgym@h0');
  });
});
