import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { readCalls } from '../../lib/agent/ledger.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import type { RunResult } from '../../lib/run/types.js';
import { removeRunResources, findAgentContainer } from '../../lib/sandbox/container.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { devServerArgs, portAnswers, temporalCli } from '../../lib/temporal/server.js';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import { runInput, startRun } from '../helpers/runs.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

const RUNS = 3;
const KILLS = Number(process.env.MLGYM_CHAOS_KILLS ?? 8);
const QUEUE = 'chaos';

/** The scripted agent of run i: inspect, write its own strategy, "train", validate, submit. */
function script(i: number): string[] {
  return [
    'cat strategy.py | head -5',
    `printf 'def row_strategy(history):\\n    if not history:\\n        return 0\\n    return history[-1][1] if ${i} else 0\\n' > strategy.py`,
    `sleep 1.5; echo trained ${i} >> train.log`,
    'validate',
    'sleep 0.5; cat train.log',
    'submit',
  ];
}

const reply = (command: string) => `DISCUSSION\nNext I will run a command.\n\n\`\`\`\n${command}\n\`\`\``;
const stepOf = (request: ChatRequestBody) => request.messages.filter((m) => m.role === 'assistant').length;
const runOf = (request: ChatRequestBody) => Number(/chaos-(\d+)/.exec(request.model)![1]);

/** A seeded generator, so the kill points are random but the test repeatable. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function startServer(port: number, dbFile: string): Promise<ChildProcess> {
  const server = spawn(temporalCli(), devServerArgs({ port, uiPort: port + 1, dbFile }), { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(port))) {
    if (Date.now() > deadline) throw new Error('chaos dev server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return server;
}

describe('chaos: workers killed at random points, the server killed once', () => {
  let fake: FakeOpenAI;
  const calls: { run: number; step: number }[] = [];
  let kills = 0;
  let server: ChildProcess;
  let client: Client;
  const port = 19233 + Math.floor(Math.random() * 500);
  const dbFile = join(mkdtempSync(join(tmpdir(), 'mlgym-chaos-')), 'temporal.db');
  const runIds: string[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI((request) => {
      const run = runOf(request);
      const step = stepOf(request);
      calls.push({ run, step });
      return { reply: reply(script(run)[step] ?? 'submit') };
    });
    server = await startServer(port, dbFile);
    client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });
  });
  afterAll(async () => {
    await client?.connection.close();
    server?.kill('SIGKILL');
    await fake?.close();
    for (const id of runIds) await removeRunResources(id);
  });

  it('every run ends with the undisturbed score, no command started twice, and a model call repeated only where the ledger charged the lost one', async () => {
    const env = { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, MLGYM_TASK_QUEUE: QUEUE, OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'test-key' };
    const start = async (i: number, tag: string) => {
      const input = runInput('quickDilemma', `openai:chaos-${i}`, { maxSteps: 12, keep: true, heartbeatTimeoutS: 2, budgetUsd: 10 });
      input.runId = `${input.runId}-${tag}`;
      runIds.push(input.runId);
      return startRun(client, QUEUE, input);
    };

    // Undisturbed runs: one worker, no kills.
    let worker = await startWorkerProcess(env);
    const calm = await Promise.all(Array.from({ length: RUNS }, (_, i) => start(i, 'calm').then((h) => h.result() as Promise<RunResult>)));
    await killHard(worker);
    const calmCalls = calls.length;

    // Disturbed runs: the worker is SIGKILLed at random points; halfway the dev server is killed and restarted.
    const handles = await Promise.all(Array.from({ length: RUNS }, (_, i) => start(i, 'chaos')));
    const results = Promise.all(handles.map((h) => h.result() as Promise<RunResult>));
    let settled = false;
    void results.finally(() => (settled = true));
    const rand = random(20261125);
    for (let k = 0; k < KILLS && !settled; k++) {
      worker = await startWorkerProcess(env);
      await new Promise((r) => setTimeout(r, 300 + rand() * 3000));
      kills++;
      await killHard(worker);
      if (k === Math.floor(KILLS / 2)) {
        server.kill('SIGKILL');
        await new Promise((r) => server.once('exit', r));
        server = await startServer(port, dbFile);
      }
    }
    worker = await startWorkerProcess(env);
    const chaos = await results;
    await killHard(worker);

    expect(kills).toBeGreaterThan(2);
    for (let i = 0; i < RUNS; i++) {
      expect(chaos[i]!.exitStatus).toBe('submitted');
      expect(chaos[i]!.submission!.metrics).toEqual(calm[i]!.submission!.metrics);
      expect(chaos[i]!.attempts.map((a) => a.metrics)).toEqual(calm[i]!.attempts.map((a) => a.metrics));
    }

    // Model calls: one per (run, step), except a call cut off between its send and its record, which
    // the retry charged to the ledger as uncertain before asking again.
    const disturbed = calls.slice(calmCalls);
    const chaosIds = handles.map((h) => h.workflowId);
    for (let i = 0; i < RUNS; i++) {
      const ledger = await readCalls(new ArtifactStore(), chaosIds[i]!);
      for (let step = 0; step < script(i).length; step++) {
        const asked = disturbed.filter((c) => c.run === i && c.step === step).length;
        const charged = ledger.filter((c) => c.step === step && c.uncertain).length;
        expect(asked, `run ${i} step ${step}: asked ${asked} times, ${charged} uncertain charges`).toBeGreaterThanOrEqual(1);
        expect(asked - 1, `run ${i} step ${step}: a repeated call without an uncertain charge`).toBeLessThanOrEqual(charged);
      }
    }
    expect(new Set(disturbed.map((c) => `${c.run}:${c.step}`)).size).toBe(RUNS * script(0).length);

    // Commands: each step's command started exactly once in its container.
    for (const runId of runIds.filter((id) => id.endsWith('-chaos'))) {
      const container = await findAgentContainer(runId);
      const starts = (await execIn(container!.Id, ['cat', '/home/agent/.mlgym/starts.log'])).stdout.trim().split('\n');
      expect(starts.length).toBe(new Set(starts).size);
      expect(starts.length).toBe(4);
    }
  });
});
