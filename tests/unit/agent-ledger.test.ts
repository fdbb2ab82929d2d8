import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { estimateTokens, overBudget, priceUsd, promptTokensBound, readCalls, totalSpend, worstCaseUsd } from '../../lib/agent/ledger.js';
import { chatRequest } from '../../lib/agent/llm.js';
import { llmTurn } from '../../lib/agent/turn.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadTask } from '../../lib/config/load.js';
import { ModelEntry } from '../../lib/config/schema.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { recordName } from '../../lib/run/records.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fakeOpenAI.js';

const entry = ModelEntry.parse({ id: 'm', model: 'm', price_input_per_mtok: 3, price_output_per_mtok: 15, context_window: 200_000, max_output_tokens: 2000 });

describe('cost ledger', () => {
  let fake: FakeOpenAI | undefined;
  afterEach(async () => fake?.close());

  it('bounds the prompt by its UTF-8 bytes and prices a worst-case reply', () => {
    const text = 'naïve café ☕ '.repeat(100);
    const request = chatRequest(entry, [
      { role: 'system', content: 'sys' },
      { role: 'user', content: text },
    ]);
    expect(promptTokensBound(request)).toBeGreaterThan(Buffer.byteLength(text, 'utf8'));
    expect(estimateTokens(text)).toBe(Math.ceil(text.length / 4));
    expect(worstCaseUsd(entry, request)).toBeCloseTo(priceUsd(entry, promptTokensBound(request), 2000), 12);
  });

  it('allows a call that could reach the budget exactly, and refuses one that could pass it', () => {
    expect(overBudget(1, 0.75, 0.25)).toBeUndefined();
    expect(overBudget(1, 0.75, 0.2500001)).toMatch(/could cost up to \$0\.2500; \$0\.7500 of the \$1\.0000 budget is spent/);
    expect(overBudget(0, 0, 0)).toBeUndefined();
    expect(overBudget(0, 0, 1e-9)).toBeDefined();
  });

  it('never lets a run pass its budget, even when every reply is as costly as it can be', async () => {
    // The server bills the worst it may: a token per prompt byte and a full-length reply.
    fake = await startFakeOpenAI((request) => ({
      reply: 'More.\n```\nls\n```',
      usage: { prompt_tokens: Buffer.byteLength(JSON.stringify(request.messages), 'utf8'), completion_tokens: request.max_tokens! },
    }));
    const store = new ArtifactStore(mkdtempSync(join(tmpdir(), 'mlgym-ledger-')));
    const task = loadTask(taskFile('prisonersDilemma'), datasetsDir);
    const model = { ...entry, base_url: fake.baseURL };
    const budgetUsd = 0.5;
    let step = 0;
    for (; step < 100; step++) {
      const turn = await llmTurn({ store, runId: 'run-ledger', step, maxSteps: 100, hints: [], budgetUsd, entry: model, task, commandDocs: '' });
      if (turn.action.kind === 'exit') {
        expect(turn.action.reason).toBe('exit_cost');
        break;
      }
      await store.writeJson('run-ledger', recordName.observation(step), { step, observation: 'x'.repeat(3000) });
    }
    const spend = totalSpend(await readCalls(store, 'run-ledger'));
    expect(spend.calls).toBe(step);
    expect(spend.calls).toBeGreaterThan(3);
    expect(spend.costUsd).toBeLessThanOrEqual(budgetUsd);
    // it stopped only because one more worst-case call might not fit
    expect(spend.costUsd).toBeGreaterThan(budgetUsd - 0.1);
  });
});
