import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/home.js';
import type { RunResult } from '../../lib/run/types.js';
import { gymQuery } from '../../workflows/messages.js';
import { killHard } from '../helpers/workerProcess.js';
import { useTestTemporal } from '../helpers/temporal.js';

/** The venv scripts/setup.sh installs clients/python into (MLGYM_GYM_PYTHON names another interpreter). */
const python = process.env.MLGYM_GYM_PYTHON ?? join(repoRoot, '.mlgym', 'gym-venv', 'bin', 'python');
const clientDir = join(repoRoot, 'clients', 'python');

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The Python client in a child process, against the suite's server and this test's worker queue. */
function runPython(args: string[], taskQueue: string): { child: ChildProcess; finished: Promise<Finished> } {
  const child = spawn(python, args, {
    cwd: clientDir,
    env: { ...process.env, MLGYM_TASK_QUEUE: taskQueue, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, finished };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Python Gym client (clients/python, installed by scripts/setup.sh)', () => {
  const t = useTestTemporal();

  it('is installed in the venv with temporalio and gymnasium', async () => {
    expect(existsSync(python), `${python} is missing: run \`npm run setup\``).toBe(true);
    const { finished } = runPython(['-c', 'import durable_mlgym, temporalio, gymnasium; print(durable_mlgym.__file__)'], 'none');
    const out = await finished;
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(join(clientDir, 'src', 'durable_mlgym', '__init__.py'));
  });

  it('passes its pytest suite: an episode through gym.make, a retried step, attach, the vector env, parallel episodes', async () => {
    const worker = await t.worker('gym-py');
    const out = await worker.runUntil(runPython(['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-rfEs', 'tests'], 'gym-py').finished);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    // Every test ran and passed: none skipped, none missing (7 without a server, 4 episodes).
    expect(out.stdout).toMatch(/^11 passed in /m);
    expect(out.stdout + out.stderr).not.toMatch(/skipped|failed|error/i);
  });

  it('continues an episode with attach(run_id) after its trainer process was killed in the middle of a step', async () => {
    const worker = await t.worker('gym-kill');
    await worker.runUntil(async () => {
      const runIdFile = join(mkdtempSync(join(tmpdir(), 'mlgym-gym-')), 'run-id');
      const first = runPython(['tests/kill_attach.py', 'start', runIdFile], 'gym-kill');
      let runId = '';
      // Wait until the slow step 1 is running, then kill the trainer like a crashing machine.
      for (const deadline = Date.now() + 180_000; ; ) {
        if (!runId && existsSync(runIdFile)) runId = readFileSync(runIdFile, 'utf8').trim();
        const status = runId ? await t.client.workflow.getHandle(runId).query(gymQuery) : undefined;
        if (status?.runningStep === 1) break;
        if (Date.now() > deadline || first.child.exitCode !== null) throw new Error(`step 1 never ran: ${(await first.finished).stderr}`);
        await sleep(100);
      }
      await killHard(first.child);
      expect((await first.finished).signal).toBe('SIGKILL');

      const second = await runPython(['tests/kill_attach.py', 'attach', runId], 'gym-kill').finished;
      expect(second.code, `signal ${second.signal}; stderr: ${second.stderr}`).toBe(0);
      const [attached, cat, submitted] = second.stdout.trim().split('\n').map((line) => JSON.parse(line));
      // attach waited for the step in flight and returned the observation after it.
      expect(attached).toMatchObject({ kind: 'attach', step: 2, action: 'sleep 4; echo slow >> /home/agent/workspace/runs.txt' });
      // Every command ran once: the killed client's step was not run again.
      expect(cat.observation.split('\n').filter((l: string) => l === 'start' || l === 'slow')).toEqual(['start', 'slow']);
      expect(submitted.final.exit_status).toBe('submitted');
      const result = (await t.client.workflow.getHandle(runId).result()) as RunResult;
      expect(result.steps).toBe(4);
      expect(result.submission?.metrics?.Score).toBe(submitted.final.score);
    });
  });
});
