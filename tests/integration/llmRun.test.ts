import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCalls, totalSpend } from '../../lib/agent/ledger.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { readTrajectory } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { startFakeOpenAI, type FakeOpenAI, type Scripted } from '../helpers/fakeOpenAI.js';
import { runInput, startRun } from '../helpers/runs.js';
import { useTestTemporal } from '../helpers/temporal.js';

const reply = (command: string, thought: string): Scripted => ({ reply: `${thought}\n\`\`\`\n${command}\n\`\`\``, usage: { prompt_tokens: 3000, completion_tokens: 200 } });

const titForTat = `cat > strategy.py << 'EOF'
def row_strategy(history):
    """Cooperate first, then copy the opponent's last move."""
    return history[-1][1] if history else 0
EOF`;

describe('LLM agents through the real server, worker, Docker and an OpenAI-compatible fake', () => {
  const t = useTestTemporal();
  let fake: FakeOpenAI | undefined;
  beforeAll(() => {
    process.env.OPENAI_API_KEY = 'sk-fake';
  });
  afterEach(async () => fake?.close());

  /** Start the fake model and point `openai:<model>` specs at it (the worker runs in this process). */
  async function model(script: Scripted[] | ((body: unknown, i: number) => Scripted)) {
    fake = await startFakeOpenAI(script);
    process.env.OPENAI_BASE_URL = fake.baseURL;
    return fake;
  }

  async function run(queue: string, spec: string, budgetUsd: number) {
    const input = runInput('quickDilemma', spec, { budgetUsd });
    const worker = await t.worker(queue);
    const handle = await startRun(t.client, queue, input);
    const result = (await worker.runUntil(handle.result())) as RunResult;
    return { input, handle, result };
  }

  it('a scripted model reads, rewrites, validates and submits quickDilemma, paying for each call once', async () => {
    const fake = await model([
      reply('cat strategy.py', 'Read the starter strategy first.'),
      reply(titForTat, 'Plain tit-for-tat should do well against this mix of opponents.'),
      reply('validate', 'Check the new strategy.'),
      reply('submit', 'Good enough: submit.'),
    ]);
    const { input, result } = await run('llm-scripted', 'openai:fake-pd?price_input_per_mtok=1&price_output_per_mtok=5', 1);

    expect(result.exitStatus).toBe('submitted');
    expect(result.submission?.metrics?.Score).toBeGreaterThan(1);
    expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
    expect(fake.calls).toBe(4);
    expect(result.costUsd).toBeCloseTo(4 * (3000 * 1 + 200 * 5) / 1e6, 10);

    // Each prompt carries what the previous command printed.
    expect(fake.requests[1]!.messages.at(-1)!.content).toContain('def row_strategy(history)');
    expect(fake.requests[3]!.messages.at(-1)!.content).toContain('Evaluation Score');
    const store = new ArtifactStore();
    expect((await readTrajectory(store, input.runId)).map((s) => s.action)).toEqual(['cat strategy.py', titForTat, 'validate', 'submit']);
    expect(totalSpend(await readCalls(store, input.runId)).costUsd).toBeCloseTo(result.costUsd, 10);
  });

  it('an overspending model stops with exit_cost before the budget is passed, and the workspace is autosubmitted', async () => {
    // Every reply bills the most it could: a token per prompt byte and a full-length answer.
    const fake = await model((body) => {
      const request = body as { messages: unknown[]; max_tokens: number };
      return { reply: 'Look again.\n```\nls -la\n```', usage: { prompt_tokens: Buffer.byteLength(JSON.stringify(request.messages)), completion_tokens: request.max_tokens } };
    });
    const budgetUsd = 0.5;
    const { result } = await run('llm-overspend', 'openai:fake-pricey?price_input_per_mtok=5&price_output_per_mtok=15&max_output_tokens=2000', budgetUsd);

    expect(result.exitStatus).toBe('autosubmission (exit_cost)');
    expect(result.submission?.metrics?.Score).toBeDefined();
    expect(result.costUsd).toBeLessThanOrEqual(budgetUsd);
    expect(result.costUsd).toBeGreaterThan(budgetUsd / 2);
    // every step but the last (which ended the run without a call) asked the model once
    expect(fake.calls).toBe(result.steps - 1);
    expect(fake.calls).toBeGreaterThanOrEqual(3);
  });

  it('survives a burst of 429s: Temporal retries the turn after Retry-After, and the run goes on', async () => {
    const limited: Scripted = { status: 429, retryAfter: '1', message: 'Rate limit reached' };
    const fake = await model([limited, limited, limited, reply('validate', 'Score the starter code.'), reply('submit', 'Submit it.')]);
    const { handle, result } = await run('llm-429', 'openai:fake-busy', 0);

    expect(result.exitStatus).toBe('submitted');
    expect(fake.calls).toBe(5);
    const history = await handle.fetchHistory();
    const turnAttempts = history.events!.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));
    expect(turnAttempts).toContain(4);
  });
});
