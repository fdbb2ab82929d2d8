import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { repoRoot } from '../../lib/home.js';
import { queueHasWorker } from '../../lib/temporal/pollers.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

/** The suite's dev server reached only through a profile file: TEMPORAL_ADDRESS is empty (unset) for the child processes. */
function profileEnv(queue: string): Record<string, string> {
  const file = join(mkdtempSync(join(tmpdir(), 'mlgym-profile-')), 'temporal.toml');
  writeFileSync(file, `[profile.suite]\naddress = "${process.env.TEMPORAL_ADDRESS}"\nnamespace = "default"\n`);
  return { TEMPORAL_ADDRESS: '', TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'suite', MLGYM_TASK_QUEUE: queue };
}

/** `mlgym …` in a child process (its own MLGYM_TASK_QUEUE), with its pid for the history's identities. */
function cli(env: Record<string, string>, ...args: string[]): { pid: number; done: Promise<{ status: number; stdout: string; stderr: string }> } {
  let child: ChildProcess;
  const done = new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    child = execFile('node', [join(repoRoot, 'bin/mlgym.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
  return { pid: child!.pid!, done };
}

/** The identities of the workers that started the workflow's tasks and activities. */
async function workerIdentities(handle: WorkflowHandle): Promise<Set<string>> {
  const { events } = await handle.fetchHistory();
  const ids = (events ?? []).flatMap((e) => [e.workflowTaskStartedEventAttributes?.identity, e.activityTaskStartedEventAttributes?.identity]);
  return new Set(ids.filter((id): id is string => Boolean(id)));
}

async function eventually(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('where `mlgym run` runs its work', () => {
  const t = useTestTemporal();
  const workers: ChildProcess[] = [];
  afterAll(async () => {
    for (const w of workers) await killHard(w);
  });

  it('hosts no worker when a worker (connected through a profile) serves the shared queue: the run is that worker’s', async () => {
    const queue = unique('cliw-served');
    const env = profileEnv(queue);
    const worker = await startWorkerProcess({ ...env, MLGYM_HOME: mkdtempSync(join(tmpdir(), 'mlgym-home-')) });
    workers.push(worker);
    await eventually(() => queueHasWorker(t.client, queue), 'the worker to poll');

    const run = cli(env, 'run', 'quickDilemma', '--model', 'baseline', '--max-steps', '5', '--json');
    const { status, stdout, stderr } = await run.done;
    expect(status, stderr).toBe(0);
    expect(stderr).toContain(`a worker serves ${queue}: it runs this (no worker in this process)`);
    const result = JSON.parse(stdout);
    expect(result.status).toBe('completed');

    const handle = t.client.workflow.getHandle(result.runId);
    expect((await handle.describe()).taskQueue).toBe(queue);
    const identities = [...(await workerIdentities(handle))];
    expect(identities.length).toBeGreaterThan(0);
    expect(identities.every((id) => id.startsWith(`${worker.pid}@`))).toBe(true);
    expect(identities.some((id) => id.startsWith(`${run.pid}@`))).toBe(false);
  });

  it('with no worker on the shared queue, serves only a queue of its own: another run waiting on the shared queue is left alone', async () => {
    const queue = unique('cliw-alone');
    const waiting = runInput('quickDilemma', 'baseline', { maxSteps: 5 });
    const other = await startRun(t.client, queue, waiting);
    try {
      const env = profileEnv(queue);
      const run = cli(env, 'run', 'quickDilemma', '--model', 'baseline', '--max-steps', '5', '--json');
      const { status, stdout, stderr } = await run.done;
      expect(status, stderr).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.status).toBe('completed');

      const handle = t.client.workflow.getHandle(result.runId);
      expect((await handle.describe()).taskQueue).toBe(`${queue}~${result.runId}`);
      const identities = [...(await workerIdentities(handle))];
      expect(identities.length).toBeGreaterThan(0);
      expect(identities.every((id) => id.startsWith(`${run.pid}@`))).toBe(true);

      // The CLI's worker never polled the shared queue: the waiting run's first workflow task was never started.
      expect(await workerIdentities(other)).toEqual(new Set());
      expect((await other.describe()).status.name).toBe('RUNNING');
    } finally {
      await other.terminate('test over');
    }
  });

  it('with no worker, a benchmark and its runs go to the CLI’s own queue', async () => {
    const queue = unique('cliw-bench');
    const benchId = unique('cliw-bench');
    const bench = cli(profileEnv(queue), 'bench', '--tasks', 'quickDilemma', '--models', 'baseline', '--max-steps', '5', '--bench-id', benchId, '--json');
    const { status, stdout, stderr } = await bench.done;
    expect(status, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.runs).toHaveLength(1);
    const own = `${queue}~${benchId}`;
    expect((await t.client.workflow.getHandle(benchId).describe()).taskQueue).toBe(own);
    const child = t.client.workflow.getHandle(result.runs[0].runId);
    expect((await child.describe()).taskQueue).toBe(own);
    expect([...(await workerIdentities(child))].every((id) => id.startsWith(`${bench.pid}@`))).toBe(true);
  });

  it('a run whose CLI died waits on its queue; `mlgym watch` serves that queue and follows it to the end', async () => {
    const queue = unique('cliw-orphan');
    const env = profileEnv(queue);
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-replay-')), 'slow.yaml');
    writeFileSync(replay, Array.from({ length: 6 }, (_, i) => `- "sleep 1; echo step ${i}"`).join('\n') + '\n');
    const first = execFile('node', [join(repoRoot, 'bin/mlgym.js'), 'run', 'quickDilemma', '--model', `replay:${replay}`, '--max-steps', '6'], { env: { ...process.env, ...env } });
    let stderr = '';
    first.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await eventually(async () => /step [1-9]\//.test(stderr), 'the run to take a step');
    const runId = /started (\S+)/.exec(stderr)![1]!;
    await new Promise<void>((resolve) => {
      first.once('exit', () => resolve());
      first.kill('SIGKILL');
    });

    const watch = cli(env, 'watch', runId, '--interval', '0.5', '--json');
    const { status, stdout, stderr: watchErr } = await watch.done;
    expect(status, watchErr).toBe(0);
    expect(watchErr).toContain(`serving ${queue}~${runId}, the queue of the CLI that started it, while watching`);
    expect(JSON.parse(stdout)).toMatchObject({ runId, status: 'completed', steps: 6 });
    const identities = [...(await workerIdentities(t.client.workflow.getHandle(runId)))];
    expect(identities.some((id) => id.startsWith(`${first.pid}@`))).toBe(true);
    expect(identities.some((id) => id.startsWith(`${watch.pid}@`))).toBe(true);
  });

  it('refuses a profile that does not exist with exit 2, before connecting', async () => {
    const env = { ...profileEnv(unique('cliw-bad')), TEMPORAL_PROFILE: 'staging' };
    const { status, stderr } = await cli(env, 'runs').done;
    expect(status).toBe(2);
    expect(stderr).toMatch(/Temporal connection profile "staging".*not found/);
  });
});
