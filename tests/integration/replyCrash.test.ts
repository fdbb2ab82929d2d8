import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, watch } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { callRecordName, readCalls } from '../../lib/agent/ledger.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { removeRunResources } from '../../lib/sandbox/container.js';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import { runInput, startRun } from '../helpers/runs.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

const QUEUE = 'reply-crash';
/** The scripted agent: one command per step, the step being the number of assistant messages so far. */
const SCRIPT = ['cat strategy.py', 'validate', 'submit'];
/** The step whose model reply the worker dies right after storing. */
const KILL_STEP = 1;

const reply = (command: string) => `DISCUSSION\nNext I will run a command.\n\n\`\`\`\n${command}\n\`\`\``;
const stepOf = (request: ChatRequestBody) => request.messages.filter((m) => m.role === 'assistant').length;

interface Kill {
  /** The turn record was already stored when the signal was sent: the activity was about to complete. */
  turnStored: boolean;
}

/**
 * SIGKILL `worker` the moment `file` appears in `dir` (which must exist): inotify wakes the test
 * within a fraction of a millisecond, with a fast poll as a fallback.
 */
function killOnAppearance(worker: ChildProcess, dir: string, file: string, turnFile: string): Promise<Kill> {
  return new Promise((resolve) => {
    let done = false;
    const check = () => {
      if (done || !existsSync(file)) return;
      done = true;
      worker.kill('SIGKILL');
      const kill = { turnStored: existsSync(turnFile) };
      watcher.close();
      clearInterval(poll);
      void killHard(worker).then(() => resolve(kill));
    };
    const watcher = watch(dir, check);
    const poll = setInterval(check, 2);
    check();
  });
}

describe('a worker killed right after a model reply was stored', () => {
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

  it('does not cause a second model call for that step: the retried turn reuses the stored reply', async () => {
    const env = {
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
      MLGYM_HOME: process.env.MLGYM_HOME!,
      MLGYM_TASK_QUEUE: QUEUE,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_API_KEY: 'test-key',
    };
    const input = runInput('prisonersDilemma', 'openai:crash-test', { maxSteps: 10, heartbeatTimeoutS: 2, budgetUsd: 10 });
    runIds.push(input.runId);
    const llmDir = store.path(input.runId, 'llm');
    mkdirSync(llmDir, { recursive: true });

    let worker = await startWorkerProcess(env);
    const killed = killOnAppearance(worker, llmDir, store.path(input.runId, callRecordName(KILL_STEP, 0)), store.path(input.runId, recordName.turn(KILL_STEP)));
    const handle = await startRun(client, QUEUE, input);
    const started = Date.now();
    const kill = await Promise.race([killed, handle.result().then(() => Promise.reject(new Error('the run ended before the worker was killed')))]);
    const callsAtKill = fake.calls;

    worker = await startWorkerProcess(env);
    const result = (await handle.result()) as RunResult;
    await killHard(worker);

    // How the kill landed: a retried agentTurn for the step shows up as a later attempt in the history.
    const events = (await handle.fetchHistory()).events!;
    const turn = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'agentTurn')[KILL_STEP]!;
    const attempt = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === String(turn.eventId))!.activityTaskStartedEventAttributes!.attempt!;
    const landed = `the kill landed ${attempt >= 2 ? 'before' : 'after'} the step-${KILL_STEP} agentTurn completed (attempt ${attempt}, turn record ${kill.turnStored ? 'already' : 'not yet'} stored, ${callsAtKill} calls at the kill, run took ${Date.now() - started} ms)`;

    expect(result.exitStatus, landed).toBe('submitted');
    expect(result.submission?.metrics?.Score, landed).toBeTypeOf('number');
    expect(result.steps, landed).toBe(SCRIPT.length);

    // One model call per step, the killed step included.
    expect(callsAtKill, landed).toBe(KILL_STEP + 1);
    const perStep = new Map<number, number>();
    for (const request of fake.requests) perStep.set(stepOf(request), (perStep.get(stepOf(request)) ?? 0) + 1);
    expect(Object.fromEntries(perStep), landed).toEqual(Object.fromEntries(SCRIPT.map((_, step) => [step, 1])));
    expect(fake.calls, landed).toBe(result.steps);
    expect((await readCalls(store, input.runId)).map((c) => [c.step, c.attempt]), landed).toEqual(SCRIPT.map((_, step) => [step, 0]));

    // The kill beat the activity's completion, so the retry is what reused the stored reply.
    expect(attempt, landed).toBeGreaterThanOrEqual(2);
  });
});
