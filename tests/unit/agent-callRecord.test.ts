import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  callRecordName,
  callStartedName,
  priceUsd,
  promptTokensBound,
  readCalls,
  totalSpend,
  uncertainCallName,
  worstCaseUsd,
  type CallRecord,
  type CallStarted,
} from '../../lib/agent/ledger.js';
import { llmTurn, type LlmTurnInput } from '../../lib/agent/turn.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadTask } from '../../lib/config/load.js';
import { ModelEntry } from '../../lib/config/schema.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { recordName } from '../../lib/run/records.js';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI, type Scripted } from '../helpers/fakeOpenAI.js';

const task = loadTask(taskFile('prisonersDilemma'), datasetsDir);
const block = (command: string) => `Next.\n\`\`\`\n${command}\n\`\`\``;
const runId = 'run-unit-call-record';

/**
 * A store whose process "dies" on chosen writes: the write throws and does not happen, as when the
 * worker is killed between the model's reply and its record.
 */
class CrashingStore extends ArtifactStore {
  private readonly crashes: RegExp[] = [];
  crashOnNextWrite(name: RegExp): void {
    this.crashes.push(name);
  }
  override async writeJson(id: string, name: string, value: unknown): Promise<string> {
    const i = this.crashes.findIndex((re) => re.test(name));
    if (i >= 0) {
      this.crashes.splice(i, 1);
      throw new Error(`simulated crash before writing ${name}`);
    }
    return super.writeJson(id, name, value);
  }
}

const REPLY_RECORD = /^llm\/000000\.0\.json$/;
const STARTED_RECORD = /^llm-started\/000000\.0\.json$/;

let fake: FakeOpenAI;
let store: CrashingStore;

async function agent(script: Scripted[]) {
  fake = await startFakeOpenAI(script);
  const entry = ModelEntry.parse({
    id: 'fake',
    base_url: fake.baseURL,
    model: 'fake-model',
    price_input_per_mtok: 1,
    price_output_per_mtok: 4,
    context_window: 100_000,
    max_output_tokens: 1000,
  });
  const turn = (step: number, extra: Partial<LlmTurnInput> = {}) =>
    llmTurn({ store, runId, step, maxSteps: 30, hints: [], budgetUsd: 10, entry, task, commandDocs: 'open <path>: show a file', ...extra });
  return { entry, turn };
}

/** The request the fake server received, as the ledger prices it. */
const asRequest = (body: ChatRequestBody) => body as unknown as Parameters<typeof worstCaseUsd>[1];

const ledger = async () => readCalls(store, runId);
const started = async (step = 0, attempt = 0) => store.readJson<CallStarted>(runId, callStartedName(step, attempt));

beforeEach(() => {
  store = new CrashingStore(mkdtempSync(join(tmpdir(), 'mlgym-call-record-')));
});
afterEach(async () => fake?.close());

describe('the model-call record', () => {
  it('stores a "call started" record with the worst-case cost before the call, and the reply with the real cost after it', async () => {
    const { entry, turn } = await agent([{ reply: block('ls'), usage: { prompt_tokens: 1500, completion_tokens: 20 } }]);
    const result = await turn(0);
    const request = asRequest(fake.requests[0]!);
    expect(await started()).toEqual({
      step: 0,
      attempt: 0,
      send: 1,
      at: expect.any(String),
      worstCaseUsd: worstCaseUsd(entry, request),
      usage: { promptTokens: promptTokensBound(request), completionTokens: 1000, estimated: true },
    });
    expect(worstCaseUsd(entry, request)).toBeCloseTo(priceUsd(entry, promptTokensBound(request), 1000), 12);
    const reply = await store.readJson<CallRecord>(runId, callRecordName(0, 0));
    expect(reply).toMatchObject({ costUsd: (1500 * 1 + 20 * 4) / 1e6, usage: { promptTokens: 1500, completionTokens: 20, estimated: false } });
    expect(reply!.uncertain).toBeUndefined();
    expect(result.costUsd).toBeCloseTo((1500 + 80) / 1e6, 12);
  });

  it('charges a call cut off between its reply and its record at its worst case, then makes it again', async () => {
    const { entry, turn } = await agent([{ reply: block('ls') }, { reply: block('pwd') }]);
    store.crashOnNextWrite(REPLY_RECORD);
    await expect(turn(0)).rejects.toThrow(/simulated crash/);
    expect(fake.calls).toBe(1);
    const lost = (await started())!;
    expect(await store.readJson(runId, callRecordName(0, 0))).toBeUndefined();
    expect(await ledger()).toEqual([]);

    // The retry charges the possibly-billed call before anything else, then asks again.
    const result = await turn(0);
    expect(fake.calls).toBe(2);
    expect(fake.requests[1]).toEqual(fake.requests[0]);
    expect(result.action).toEqual({ kind: 'command', command: 'pwd' });
    const worst = worstCaseUsd(entry, asRequest(fake.requests[0]!));
    expect(lost.worstCaseUsd).toBeCloseTo(worst, 12);
    const calls = await ledger();
    expect(calls.map((c) => [c.step, c.attempt, c.uncertain ?? false, c.costUsd])).toEqual([
      [0, 0, true, lost.worstCaseUsd],
      [0, 0, false, (100 * 1 + 10 * 4) / 1e6],
    ]);
    expect(calls[0]).toMatchObject({ send: 1, at: lost.at, usage: lost.usage });
    expect(calls[0]!.response).toBeUndefined();
    expect(result.costUsd).toBeCloseTo(lost.worstCaseUsd + 140 / 1e6, 12);
    expect(totalSpend(calls)).toMatchObject({ calls: 2, costUsd: result.costUsd });
    expect((await started())!.send).toBe(2);

    // Once the reply is recorded, a further retry neither calls nor charges again.
    expect(await turn(0)).toEqual(result);
    expect(fake.calls).toBe(2);
    expect(await ledger()).toHaveLength(2);
  });

  it('charges a started call written before a crash, then calls again', async () => {
    const { turn } = await agent([{ reply: block('ls') }]);
    const lost: CallStarted = { step: 0, attempt: 0, send: 1, at: '2024-01-01T00:00:00.000Z', worstCaseUsd: 0.25, usage: { promptTokens: 50_000, completionTokens: 1000, estimated: true } };
    await store.writeJson(runId, callStartedName(0, 0), lost);
    const result = await turn(0);
    expect(fake.calls).toBe(1);
    expect(await store.readJson<CallRecord>(runId, uncertainCallName(0, 0, 1))).toMatchObject({ uncertain: true, send: 1, costUsd: 0.25, at: lost.at });
    expect(result.costUsd).toBeCloseTo(0.25 + 140 / 1e6, 12);
    expect(totalSpend(await ledger()).costUsd).toBeCloseTo(result.costUsd, 12);
  });

  it('returns a recorded reply without a call or a charge, though its started record is still there', async () => {
    const { turn } = await agent([{ reply: block('ls') }, { reply: block('pwd') }]);
    const first = await turn(0);
    expect(await started()).toBeDefined();
    expect(await turn(0)).toEqual(first);
    expect(fake.calls).toBe(1);
    expect((await ledger()).filter((c) => c.uncertain)).toEqual([]);
  });

  it('ends with exit_cost and no call when the uncertain charge leaves too little budget for the next call', async () => {
    const { turn } = await agent([{ reply: block('ls') }]);
    const lost: CallStarted = { step: 0, attempt: 0, send: 1, at: '2024-01-01T00:00:00.000Z', worstCaseUsd: 0.009, usage: { promptTokens: 1000, completionTokens: 2000, estimated: true } };
    await store.writeJson(runId, callStartedName(0, 0), lost);
    const result = await turn(0, { budgetUsd: 0.01 });
    expect(result.action).toEqual({ kind: 'exit', reason: 'exit_cost' });
    expect(result.thought).toMatch(/next model call could cost up to \$0\.00\d+; \$0\.0090 of the \$0\.0100 budget is spent/);
    expect(result.costUsd).toBeCloseTo(0.009, 12);
    expect(fake.calls).toBe(0);
    expect(totalSpend(await ledger())).toMatchObject({ calls: 1, costUsd: 0.009 });
    expect((await started())!.send).toBe(1);
    // Without the charge the same call fits the same budget.
    expect((await turn(0, { runId: 'run-unit-no-crash', budgetUsd: 0.01 })).action).toEqual({ kind: 'command', command: 'ls' });
    expect(fake.calls).toBe(1);
  });

  it('ends with exit_cost when a real crash left a worst-case charge the budget cannot carry twice', async () => {
    const { turn } = await agent([{ reply: block('ls') }]);
    store.crashOnNextWrite(REPLY_RECORD);
    await expect(turn(0)).rejects.toThrow(/simulated crash/);
    const worst = (await started())!.worstCaseUsd;
    // One worst-case call fits the budget; the charged one plus another does not.
    const result = await turn(0, { budgetUsd: 1.5 * worst });
    expect(result.action).toEqual({ kind: 'exit', reason: 'exit_cost' });
    expect(fake.calls).toBe(1);
    expect(result.costUsd).toBeCloseTo(worst, 12);
    expect(totalSpend(await ledger()).costUsd).toBeLessThanOrEqual(1.5 * worst);
  });

  it('charges each lost send once, even when the retry itself dies after charging', async () => {
    const { turn } = await agent([{ reply: block('ls') }]);
    store.crashOnNextWrite(REPLY_RECORD);
    await expect(turn(0)).rejects.toThrow(/simulated crash/);
    // The retry charges send 1, then dies before recording the next send.
    store.crashOnNextWrite(STARTED_RECORD);
    await expect(turn(0)).rejects.toThrow(/simulated crash/);
    expect(fake.calls).toBe(1);
    // The next retry finds the same send 1 unanswered: the charge is rewritten, not added again.
    store.crashOnNextWrite(REPLY_RECORD);
    await expect(turn(0)).rejects.toThrow(/simulated crash/);
    expect(fake.calls).toBe(2);
    const result = await turn(0);
    expect(fake.calls).toBe(3);
    const calls = await ledger();
    expect(calls.map((c) => [c.uncertain ?? false, c.send])).toEqual([
      [true, 1],
      [true, 2],
      [false, undefined],
    ]);
    expect(result.costUsd).toBeCloseTo(totalSpend(calls).costUsd, 12);
  });

  it('charges nothing for a call that certainly was not billed (a 429), but the worst case for a garbled reply', async () => {
    const { turn } = await agent([{ status: 429, message: 'slow down' }, { raw: '{"choices": [' }, { reply: block('ls') }]);
    await expect(turn(0)).rejects.toMatchObject({ type: 'ModelRateLimited' });
    expect(await started()).toMatchObject({ send: 1, unbilled: expect.stringContaining('slow down') });
    await expect(turn(0)).rejects.toMatchObject({ type: 'ModelBadReply' });
    expect((await ledger()).filter((c) => c.uncertain)).toEqual([]);
    const garbled = (await started())!;
    expect(garbled).toMatchObject({ send: 2 });
    expect(garbled.unbilled).toBeUndefined();
    const result = await turn(0);
    expect(fake.calls).toBe(3);
    const calls = await ledger();
    expect(calls.map((c) => [c.uncertain ?? false, c.send, c.costUsd])).toEqual([
      [true, 2, garbled.worstCaseUsd],
      [false, undefined, 140 / 1e6],
    ]);
    expect(result.costUsd).toBeCloseTo(garbled.worstCaseUsd + 140 / 1e6, 12);
  });

  it('rebuilds the next prompt from the recorded reply, never from an uncertain charge', async () => {
    const { turn } = await agent([{ reply: block('ls') }, { reply: block('cat strategy.py') }, { reply: block('validate') }]);
    store.crashOnNextWrite(REPLY_RECORD);
    await expect(turn(0)).rejects.toThrow(/simulated crash/);
    await turn(0);
    await store.writeJson(runId, recordName.observation(0), { step: 0, observation: 'strategy.py' });
    expect((await turn(1)).action).toEqual({ kind: 'validate' });
    const messages = fake.requests[2]!.messages;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[2]!.content).toBe(block('cat strategy.py'));
  });
});
