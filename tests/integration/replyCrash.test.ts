import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { callRecordName, callStartedName, readCalls, totalSpend, type CallStarted } from '../../lib/agent/ledger.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { removeRunResources } from '../../lib/sandbox/container.js';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import { runInput, startRun } from '../helpers/runs.js';
import { startGateProxy } from '../helpers/gateProxy.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

const QUEUE = 'reply-crash';
/** The scripted agent: one command per step, the step being the number of assistant messages so far. */
const SCRIPT = ['cat strategy.py', 'validate', 'submit'];
/** The step whose model reply the worker dies right after storing. */
const KILL_STEP = 1;

const reply = (command: string) => `DISCUSSION\nNext I will run a command.\n\n\`\`\`\n${command}\n\`\`\``;
const stepOf = (request: ChatRequestBody) => request.messages.filter((m) => m.role === 'assistant').length;

describe('a worker killed around a model call', () => {
  let fake: FakeOpenAI;
  let client: Client;
  const store = new ArtifactStore();
  const runIds: string[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI((request) => ({ reply: reply(SCRIPT[stepOf(request)] ?? 'submit') }));
    client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }) });
  });
  afterAll(async () => {
    await client?.connection.close();
    await fake?.close();
    for (const id of runIds) await removeRunResources(id);
  });

  it('right after the reply was stored: no second model call for that step, the retried turn reuses the stored reply', async () => {
    const input = runInput('quickDilemma', 'openai:crash-test', { maxSteps: 10, heartbeatTimeoutS: 2, budgetUsd: 10 });
    runIds.push(input.runId);
    const env = {
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
      MLGYM_HOME: process.env.MLGYM_HOME!,
      MLGYM_TASK_QUEUE: QUEUE,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_API_KEY: 'test-key',
    };
    // The first worker reaches the server through a gate that shuts once the step's reply is stored:
    // the activity's completion, sent after that, never arrives, and the worker is killed.
    const stored = () => existsSync(store.localFile(input.runId, callRecordName(KILL_STEP, 0)));
    let worker: ChildProcess | undefined;
    const gate = await startGateProxy(env.TEMPORAL_ADDRESS, stored, () => worker?.kill('SIGKILL'));
    try {
      worker = await startWorkerProcess({ ...env, TEMPORAL_ADDRESS: gate.address });
      const handle = await startRun(client, QUEUE, input);
      await Promise.race([gate.closed, handle.result().then(() => Promise.reject(new Error('the run ended before the gate shut')))]);
      await killHard(worker);
      const callsAtKill = fake.calls;

      worker = await startWorkerProcess(env);
      const result = (await handle.result()) as RunResult;

      expect(result.exitStatus).toBe('submitted');
      expect(result.submission?.metrics?.Score).toBeTypeOf('number');
      expect(result.steps).toBe(SCRIPT.length);

      // One model call per step, the killed step included.
      expect(callsAtKill).toBe(KILL_STEP + 1);
      const perStep = new Map<number, number>();
      for (const request of fake.requests) perStep.set(stepOf(request), (perStep.get(stepOf(request)) ?? 0) + 1);
      expect(Object.fromEntries(perStep)).toEqual(Object.fromEntries(SCRIPT.map((_, step) => [step, 1])));
      expect(fake.calls).toBe(result.steps);
      expect((await readCalls(store, input.runId)).map((c) => [c.step, c.attempt])).toEqual(SCRIPT.map((_, step) => [step, 0]));

      // The completion never reached the server, so a retry of the step's turn is what reused the stored reply.
      const events = (await handle.fetchHistory()).events!;
      const turn = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'agentTurn')[KILL_STEP]!;
      const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === String(turn.eventId))!;
      expect(started.activityTaskStartedEventAttributes!.attempt).toBeGreaterThanOrEqual(2);
    } finally {
      if (worker) await killHard(worker);
      await gate.stop();
    }
  });

  it('charges a call cut off before its reply was stored at its worst case, and makes it once more', async () => {
    // The worker is SIGKILLed by the model server itself, on the first request of KILL_STEP, before it answers:
    // the call was sent (and may have been billed) but its reply can never be stored.
    let worker: ChildProcess | undefined;
    let signalKill!: () => void;
    const killedInFlight = new Promise<void>((resolve) => (signalKill = resolve));
    let killed = false;
    const priced = await startFakeOpenAI((request) => {
      if (stepOf(request) === KILL_STEP && !killed) {
        killed = true;
        worker!.kill('SIGKILL');
        signalKill();
      }
      return { reply: reply(SCRIPT[stepOf(request)] ?? 'submit'), usage: { prompt_tokens: 1000, completion_tokens: 50 } };
    });
    try {
      const env = {
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
        MLGYM_HOME: process.env.MLGYM_HOME!,
        MLGYM_TASK_QUEUE: `${QUEUE}-in-flight`,
        OPENAI_BASE_URL: priced.baseURL,
        OPENAI_API_KEY: 'test-key',
      };
      const input = runInput('quickDilemma', 'openai:crash-priced?price_input_per_mtok=1&price_output_per_mtok=4', { maxSteps: 10, heartbeatTimeoutS: 2, budgetUsd: 10 });
      runIds.push(input.runId);

      worker = await startWorkerProcess(env);
      const handle = await startRun(client, env.MLGYM_TASK_QUEUE, input);
      await Promise.race([killedInFlight, handle.result().then(() => Promise.reject(new Error('the run ended before the worker was killed')))]);
      await killHard(worker);
      expect(await store.readJson(input.runId, callRecordName(KILL_STEP, 0))).toBeUndefined();

      worker = await startWorkerProcess(env);
      const result = (await handle.result()) as RunResult;
      await killHard(worker);

      expect(result.exitStatus).toBe('submitted');
      expect(result.steps).toBe(SCRIPT.length);
      // The cut-off call was made again: twice for KILL_STEP, once for every other step.
      const perStep = new Map<number, number>();
      for (const request of priced.requests) perStep.set(stepOf(request), (perStep.get(stepOf(request)) ?? 0) + 1);
      expect(Object.fromEntries(perStep)).toEqual(Object.fromEntries(SCRIPT.map((_, step) => [step, step === KILL_STEP ? 2 : 1])));

      // The ledger holds the lost call at its worst case, before the reply of the call made again.
      const calls = await readCalls(store, input.runId);
      expect(calls.map((c) => [c.step, c.attempt, c.uncertain ?? false])).toEqual(
        SCRIPT.flatMap((_, step) => (step === KILL_STEP ? [[step, 0, true], [step, 0, false]] : [[step, 0, false]])),
      );
      const charge = calls.find((c) => c.uncertain)!;
      const started = (await store.readJson<CallStarted>(input.runId, callStartedName(KILL_STEP, 0)))!;
      expect(started.send).toBe(2);
      expect(charge.send).toBe(1);
      expect(charge.response).toBeUndefined();
      // The same prompt was sent both times, so both sends have the same worst case.
      expect(charge.costUsd).toBeCloseTo(started.worstCaseUsd, 12);
      const replies = calls.filter((c) => !c.uncertain);
      expect(replies.map((c) => c.costUsd)).toEqual(SCRIPT.map(() => (1000 * 1 + 50 * 4) / 1e6));
      expect(charge.costUsd).toBeGreaterThan(replies[KILL_STEP]!.costUsd);
      // The run's cost is the ledger's: the real replies plus the worst case of the lost call.
      expect(result.costUsd).toBeCloseTo(totalSpend(calls).costUsd, 10);
      expect(result.costUsd).toBeCloseTo(replies.reduce((sum, c) => sum + c.costUsd, 0) + charge.costUsd, 10);
    } finally {
      if (worker) await killHard(worker);
      await priced.close();
    }
  });
});
