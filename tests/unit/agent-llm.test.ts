import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { priceUsd, usageOf } from '../../lib/agent/ledger.js';
import { callModel, certainlyUnbilled, chatRequest, retryAfterMs } from '../../lib/agent/llm.js';
import { ModelEntry } from '../../lib/config/schema.js';
import { startFakeOpenAI, type FakeOpenAI, type Scripted } from '../helpers/fakeOpenAI.js';

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function serve(...script: Scripted[]) {
  fake = await startFakeOpenAI(script);
  const entry = ModelEntry.parse({
    id: 'fake',
    base_url: fake.baseURL,
    api_key_env: 'FAKE_LLM_KEY',
    model: 'fake-model',
    price_input_per_mtok: 2,
    price_output_per_mtok: 8,
    context_window: 8000,
    max_output_tokens: 500,
    extra_params: { temperature: 0.3, model: 'not-this-one' },
  });
  return { entry, request: chatRequest(entry, [{ role: 'user', content: 'hello there' }]) };
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('model calls through the openai client against a fake server', () => {
  it('sends the model, prompt, reply limit and extra parameters, and prices the reported usage', async () => {
    process.env.FAKE_LLM_KEY = 'sk-test';
    const { entry, request } = await serve({ reply: 'ok', usage: { prompt_tokens: 1000, completion_tokens: 250 } });
    const outcome = await callModel(entry, request);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(fake!.requests[0]).toMatchObject({ model: 'fake-model', max_tokens: 500, temperature: 0.3, messages: [{ role: 'user', content: 'hello there' }] });
    const usage = usageOf(request, outcome.response);
    expect(usage).toEqual({ promptTokens: 1000, completionTokens: 250, estimated: false });
    expect(priceUsd(entry, usage.promptTokens, usage.completionTokens)).toBeCloseTo((1000 * 2 + 250 * 8) / 1e6, 12);
  });

  it('estimates usage at ~4 characters a token when the server reports none', async () => {
    const { entry, request } = await serve({ reply: 'x'.repeat(400), usage: null });
    const outcome = await callModel(entry, request);
    if (!outcome.ok) throw new Error('expected a reply');
    const usage = usageOf(request, outcome.response);
    expect(usage.estimated).toBe(true);
    expect(usage.completionTokens).toBeGreaterThanOrEqual(100);
    expect(usage.completionTokens).toBeLessThan(110);
    expect(usage.promptTokens).toBeGreaterThan(0);
  });

  it('turns a 429 into a retryable failure carrying the Retry-After delay, and makes one request only', async () => {
    const { entry, request } = await serve({ status: 429, retryAfter: '7', message: 'slow down' });
    const err = await failure(callModel(entry, request));
    expect(err.type).toBe('ModelRateLimited');
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(7000);
    expect(err.message).toContain('slow down');
    expect(certainlyUnbilled(err)).toBe(true);
    expect(fake!.calls).toBe(1);
  });

  it('turns a 500 into a retryable failure without retrying in the client', async () => {
    const { entry, request } = await serve({ status: 500 });
    const err = await failure(callModel(entry, request));
    expect(err.type).toBe('ModelUnavailable');
    expect(err.nonRetryable).toBe(false);
    expect(certainlyUnbilled(err)).toBe(true);
    expect(fake!.calls).toBe(1);
  });

  it('counts a gateway error (502, 504) as possibly billed: the model behind it may have answered', async () => {
    const { entry, request } = await serve({ status: 502 }, { status: 504 }, { status: 503 });
    const bad = await failure(callModel(entry, request));
    const timeout = await failure(callModel(entry, request));
    const unavailable = await failure(callModel(entry, request));
    expect([bad.type, timeout.type, unavailable.type]).toEqual(['ModelUnavailable', 'ModelUnavailable', 'ModelUnavailable']);
    expect([certainlyUnbilled(bad), certainlyUnbilled(timeout), certainlyUnbilled(unavailable)]).toEqual([false, false, true]);
  });

  it('ends the run on a 401 with a clear message naming the unset key variable', async () => {
    delete process.env.FAKE_LLM_KEY;
    const { entry, request } = await serve({ status: 401, message: 'Incorrect API key provided' });
    const outcome = await callModel(entry, request);
    expect(outcome).toEqual({ ok: false, reason: 'exit_api', message: expect.stringMatching(/fake at .* rejected the request: 401 Incorrect API key provided \(FAKE_LLM_KEY is not set\)/) });
  });

  it('ends the run on 400, 403 and 404, and with exit_context on a context-length error', async () => {
    const { entry, request } = await serve(
      { status: 404, message: 'The model `fake-model` does not exist' },
      { status: 403, message: 'forbidden' },
      { status: 400, message: 'bad parameter temperature' },
      { status: 400, code: 'context_length_exceeded', message: "This model's maximum context length is 8000 tokens" },
    );
    expect(await callModel(entry, request)).toMatchObject({ ok: false, reason: 'exit_api', message: expect.stringContaining('does not exist') });
    expect(await callModel(entry, request)).toMatchObject({ ok: false, reason: 'exit_api' });
    expect(await callModel(entry, request)).toMatchObject({ ok: false, reason: 'exit_api', message: expect.stringContaining('bad parameter') });
    expect(await callModel(entry, request)).toMatchObject({ ok: false, reason: 'exit_context' });
  });

  it('treats a malformed body as a transient bad reply', async () => {
    const { entry, request } = await serve({ raw: '{"choices": [' }, { raw: '{"object":"chat.completion"}' });
    const garbled = await failure(callModel(entry, request));
    const empty = await failure(callModel(entry, request));
    expect([garbled.type, empty.type]).toEqual(['ModelBadReply', 'ModelBadReply']);
    // The server answered 200: the call may have been billed.
    expect([certainlyUnbilled(garbled), certainlyUnbilled(empty)]).toEqual([false, false]);
  });

  it('turns a refused connection into a retryable failure', async () => {
    const { entry, request } = await serve({ reply: 'unused' });
    await fake!.close();
    fake = undefined;
    const refused = await failure(callModel(entry, request));
    expect(refused.type).toBe('ModelUnavailable');
    expect(certainlyUnbilled(refused)).toBe(true);
  });

  it('reads Retry-After as seconds, milliseconds or a date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '150', 'retry-after': '2' }))).toBe(150);
    const inAMinute = retryAfterMs(new Headers({ 'retry-after': new Date(Date.now() + 60_000).toUTCString() }))!;
    expect(inAMinute).toBeGreaterThan(50_000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
