import { ApplicationFailure } from '@temporalio/common';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ModelEntry } from '../config/schema.js';

/** Longer than any sane reply, shorter than the agentTurn activity's timeout. */
const CALL_TIMEOUT_MS = 5 * 60_000;

export type CallOutcome = { ok: true; response: ChatCompletion } | { ok: false; reason: 'exit_api' | 'exit_context'; message: string };

/** The request body: the entry's extra parameters, which may not override the model, prompt or reply size. */
export function chatRequest(entry: ModelEntry, messages: ChatCompletionMessageParam[], tools?: ChatCompletionTool[]): ChatCompletionCreateParamsNonStreaming {
  return { ...entry.extra_params, model: entry.model, messages, max_tokens: entry.max_output_tokens, ...(tools ? { tools } : {}) };
}

/**
 * One chat completion. Transient failures (429, 5xx, network, a garbled body) throw a retryable
 * ApplicationFailure, with the server's Retry-After as the next delay: the client does not retry,
 * Temporal does. A rejected request (bad key, unknown model, bad parameters) is an outcome that ends
 * the run, since retrying cannot fix it.
 */
export async function callModel(entry: ModelEntry, request: ChatCompletionCreateParamsNonStreaming): Promise<CallOutcome> {
  const apiKey = process.env[entry.api_key_env];
  // Local servers often need no key; one that does answers 401, and the message names the variable.
  const client = new OpenAI({ baseURL: entry.base_url, apiKey: apiKey || 'unset', maxRetries: 0, timeout: CALL_TIMEOUT_MS });
  let response: ChatCompletion;
  try {
    response = await client.chat.completions.create(request);
  } catch (err) {
    return classify(err, entry, client.baseURL, !apiKey);
  }
  if (!response?.choices?.[0]?.message) throw transient('ModelBadReply', `${entry.id}: the reply has no message: ${JSON.stringify(response).slice(0, 300)}`);
  return { ok: true, response };
}

/** Transient failures after which the call was certainly not billed (see `certainlyUnbilled`). */
const unbilledFailures = new WeakSet<object>();

/**
 * Whether `err`, thrown by `callModel`, means the server certainly did not bill the call: it answered
 * with an error status that carries no completion (429, 408, 409, a 5xx other than 502 and 504), or
 * the connection was never made. A timeout, a dropped connection, a garbled 200 or a gateway error
 * (502, 504: the model behind the gateway may have answered) may have been billed.
 */
export function certainlyUnbilled(err: unknown): boolean {
  return typeof err === 'object' && err !== null && unbilledFailures.has(err);
}

function unbilled(failure: ApplicationFailure): ApplicationFailure {
  unbilledFailures.add(failure);
  return failure;
}

/** Connection errors that mean the request never reached a server. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function neverConnected(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (NOT_CONNECTED.has(String((e as { code?: unknown }).code))) return true;
  }
  return false;
}

/** A transient failure is thrown for Temporal to retry; a rejected request is returned. */
function classify(err: unknown, entry: ModelEntry, baseURL: string, keyMissing: boolean): CallOutcome {
  if (err instanceof SyntaxError) throw transient('ModelBadReply', `${entry.id}: the reply is not valid JSON: ${err.message}`);
  if (err instanceof APIConnectionError) {
    const failure = transient('ModelUnavailable', `${entry.id}: ${err.message}`);
    throw !(err instanceof APIConnectionTimeoutError) && neverConnected(err) ? unbilled(failure) : failure;
  }
  if (!(err instanceof APIError) || err.status === undefined) throw err;
  const delay = retryAfterMs(err.headers);
  if (err.status === 429) throw unbilled(transient('ModelRateLimited', `${entry.id}: rate limited: ${err.message}`, delay));
  if (err.status >= 500 || err.status === 408 || err.status === 409) {
    const failure = transient('ModelUnavailable', `${entry.id}: ${err.message}`, delay);
    throw err.status === 502 || err.status === 504 ? failure : unbilled(failure);
  }
  if (err.code === 'context_length_exceeded' || /context length|context window|too many tokens/i.test(err.message)) {
    return { ok: false, reason: 'exit_context', message: `${entry.id}: the prompt does not fit the context window: ${err.message}` };
  }
  const hint = (err.status === 401 || err.status === 403) && keyMissing ? ` (${entry.api_key_env} is not set)` : '';
  return { ok: false, reason: 'exit_api', message: `${entry.id} at ${baseURL} rejected the request: ${err.message}${hint}` };
}

function transient(type: string, message: string, nextRetryDelay?: number): ApplicationFailure {
  return ApplicationFailure.create({ message, type, ...(nextRetryDelay !== undefined ? { nextRetryDelay } : {}) });
}

/** `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
