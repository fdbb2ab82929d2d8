import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callRecordName, readCalls, totalSpend, type CallRecord } from '../../lib/agent/ledger.js';
import { llmTurn, type LlmTurnInput } from '../../lib/agent/turn.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadTask } from '../../lib/config/load.js';
import { ModelEntry } from '../../lib/config/schema.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { recordName } from '../../lib/run/records.js';
import { startFakeOpenAI, type FakeOpenAI, type Scripted } from '../helpers/fakeOpenAI.js';

const task = loadTask(taskFile('prisonersDilemma'), datasetsDir);
const block = (command: string, thought = 'Next.') => `${thought}\n\`\`\`\n${command}\n\`\`\``;

let fake: FakeOpenAI;
let store: ArtifactStore;
const runId = 'run-unit-llm';

async function agent(script: Scripted[], entry: Partial<ModelEntry> = {}) {
  fake = await startFakeOpenAI(script);
  const model = ModelEntry.parse({
    id: 'fake',
    base_url: fake.baseURL,
    model: 'fake-model',
    price_input_per_mtok: 1,
    price_output_per_mtok: 4,
    context_window: 100_000,
    max_output_tokens: 1000,
    ...entry,
  });
  return (step: number, extra: Partial<LlmTurnInput> = {}) =>
    llmTurn({ store, runId, step, maxSteps: 30, hints: [], budgetUsd: 10, entry: model, task, commandDocs: 'open <path>: show a file', ...extra });
}

/** What the workflow does after a command: the turn and its observation are stored under the step. */
async function observe(step: number, observation: string) {
  await store.writeJson(runId, recordName.observation(step), { step, observation });
}

beforeEach(() => {
  store = new ArtifactStore(mkdtempSync(join(tmpdir(), 'mlgym-turn-')));
});
afterEach(async () => fake?.close());

describe('LLM turn', () => {
  it('asks with the system prompt, task and footer, and stores the exact request and reply with tokens and cost', async () => {
    const turn = await agent([{ reply: block('cat strategy.py', 'Read the strategy.'), usage: { prompt_tokens: 2000, completion_tokens: 100 } }]);
    const result = await turn(0);
    expect(result).toEqual({ action: { kind: 'command', command: 'cat strategy.py' }, thought: 'Read the strategy.', costUsd: (2000 * 1 + 100 * 4) / 1e6 });
    const [system, user] = fake.requests[0]!.messages;
    expect(system!.role).toBe('system');
    expect(system!.content).toContain('open <path>: show a file');
    expect(system!.content).toContain('1800 seconds');
    expect(user!.content).toContain('You are the row player');
    expect(user!.content).toContain('(Steps used: 0 of 30, remaining: 30)');
    const stored = await store.readJson<CallRecord>(runId, callRecordName(0, 0));
    expect(stored!.request).toEqual(fake.requests[0]);
    expect(stored!.response!.choices[0]!.message.content).toContain('cat strategy.py');
    expect(stored!.usage).toEqual({ promptTokens: 2000, completionTokens: 100, estimated: false });
  });

  it('reuses a stored call when the turn is retried: the model is not asked or charged twice', async () => {
    const turn = await agent([{ reply: block('ls') }, { reply: block('pwd') }]);
    const first = await turn(0);
    const again = await turn(0);
    expect(again).toEqual(first);
    expect(fake.calls).toBe(1);
    expect(totalSpend(await readCalls(store, runId)).calls).toBe(1);
  });

  it('rebuilds the history from stored steps, with the operator hints where they were given', async () => {
    const turn = await agent([{ reply: block('cat strategy.py') }, { reply: block('validate') }]);
    await turn(0, { hints: ['mind the grudger'] });
    await observe(0, 'def row_strategy(history):');
    expect((await turn(1, { hints: ['be quick'] })).action).toEqual({ kind: 'validate' });
    const messages = fake.requests[1]!.messages;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]!.content).toContain('NOTE FROM THE OPERATOR: mind the grudger');
    expect(messages[2]!.content).toBe(block('cat strategy.py'));
    expect(messages[3]!.content).toContain('def row_strategy(history):');
    expect(messages[3]!.content).toContain('NOTE FROM THE OPERATOR: be quick');
    expect(messages[3]!.content).toContain('(Steps used: 1 of 30, remaining: 29)');
  });

  it('re-asks after a format error, drops the failed attempt from later history, and counts the re-ask', async () => {
    const twoBlocks = `Two things.\n\`\`\`\nls\n\`\`\`\n\`\`\`\npwd\n\`\`\``;
    const turn = await agent([{ reply: twoBlocks }, { reply: block('ls') }, { reply: block('pwd') }]);
    const result = await turn(0);
    expect(result.action).toEqual({ kind: 'command', command: 'ls' });
    expect(result.costUsd).toBeCloseTo(2 * (100 + 40) / 1e6, 12);
    const reask = fake.requests[1]!.messages;
    expect(reask.at(-2)).toEqual({ role: 'assistant', content: twoBlocks });
    expect(reask.at(-1)!.content).toMatch(/^Your last reply could not be used: the reply has 2 fenced code blocks/);
    expect(totalSpend(await readCalls(store, runId))).toMatchObject({ calls: 2, reasks: 1 });

    await observe(0, 'strategy.py');
    await turn(1);
    expect(fake.requests[2]!.messages.map((m) => m.content)).not.toContain(twoBlocks);
  });

  it('ends the run with exit_format after three re-asks', async () => {
    const turn = await agent([{ reply: 'I am thinking about it.' }]);
    const result = await turn(0);
    expect(result.action).toEqual({ kind: 'exit', reason: 'exit_format' });
    expect(fake.calls).toBe(4);
    expect(totalSpend(await readCalls(store, runId))).toMatchObject({ calls: 4, reasks: 3 });
  });

  it('ends with exit_cost before a call that could pass the budget, and asks nothing', async () => {
    const turn = await agent([{ reply: block('ls') }], { price_input_per_mtok: 10, price_output_per_mtok: 30 });
    const result = await turn(0, { budgetUsd: 0.02 });
    expect(result.action).toEqual({ kind: 'exit', reason: 'exit_cost' });
    expect(result.thought).toMatch(/next model call could cost up to \$0\.0\d+; \$0\.0000 of the \$0\.0200 budget is spent/);
    expect(fake.calls).toBe(0);
  });

  it('lets free models run on a zero budget', async () => {
    const turn = await agent([{ reply: block('ls') }], { price_input_per_mtok: 0, price_output_per_mtok: 0 });
    expect((await turn(0, { budgetUsd: 0 })).action).toEqual({ kind: 'command', command: 'ls' });
  });

  it('ends with exit_context when the prompt cannot fit', async () => {
    const small = await agent([{ reply: block('ls') }], { context_window: 1500, max_output_tokens: 1000 });
    expect((await small(0)).action).toEqual({ kind: 'exit', reason: 'exit_context' });
    expect(fake.calls).toBe(0);
  });

  it("ends with exit_api and the server's message on a rejected request", async () => {
    const rejected = await agent([{ status: 401, message: 'Incorrect API key provided' }]);
    const result = await rejected(0);
    expect(result.action).toEqual({ kind: 'exit', reason: 'exit_api' });
    expect(result.thought).toContain('401 Incorrect API key provided');
  });

  it('speaks the native tool-call format, answering each rejected call before re-asking', async () => {
    const turn = await agent(
      [
        { toolCalls: [{ name: 'run', arguments: '{"command":"ls"}' }, { name: 'run', arguments: '{"command":"pwd"}' }] },
        { toolCalls: [{ name: 'run', arguments: '{"command":"cat strategy.py"}' }], content: 'One at a time.' },
        { toolCalls: [{ name: 'run', arguments: '{"command":"submit"}' }] },
      ],
      { tool_calling: true },
    );
    const result = await turn(0);
    expect(result).toMatchObject({ action: { kind: 'command', command: 'cat strategy.py' }, thought: 'One at a time.' });
    expect(fake.requests[0]!.tools).toEqual([expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'run' }) })]);
    const reask = fake.requests[1]!.messages.slice(-3);
    expect(reask.map((m) => [m.role, m.tool_call_id])).toEqual([
      ['assistant', undefined],
      ['tool', 'call_0_0'],
      ['tool', 'call_0_1'],
    ]);
    expect(reask[1]!.content).toContain('2 tool calls');

    await observe(0, 'def row_strategy');
    expect((await turn(1)).action).toEqual({ kind: 'submit' });
    const history = fake.requests[2]!.messages.slice(2);
    expect(history).toEqual([
      expect.objectContaining({ role: 'assistant', tool_calls: [expect.objectContaining({ id: 'call_1_0' })] }),
      expect.objectContaining({ role: 'tool', tool_call_id: 'call_1_0', content: expect.stringContaining('def row_strategy') }),
    ]);
  });
});
