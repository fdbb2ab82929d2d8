import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ArtifactStore } from '../artifacts/store.js';
import type { ModelEntry } from '../config/schema.js';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** The server reported no usage: the counts are estimated from the text. */
  estimated: boolean;
}

/**
 * One model call as stored: the exact request and reply, what it cost, and the hints the prompt carried.
 * An `uncertain` record is a call that was sent but whose reply was never recorded (the process died
 * in between): it has no response and is charged at the call's worst-case cost, since it may have been billed.
 */
export interface CallRecord {
  step: number;
  /** 0 for the first ask of a step, 1… for format-error re-asks. */
  attempt: number;
  at: string;
  hints: string[];
  request: ChatCompletionCreateParamsNonStreaming;
  response?: ChatCompletion;
  /** Why the call ended the run (a rejected request: bad key, unknown model…). */
  failure?: { reason: 'exit_api' | 'exit_context'; message: string };
  usage: Usage;
  costUsd: number;
  /** A possibly-billed call without a recorded reply, charged at its worst case (`usage` holds the bounds). */
  uncertain?: true;
  /** For an uncertain charge: which send of this (step, attempt) it stands for (1, 2, …). */
  send?: number;
}

/**
 * Written before a call is sent, under (step, attempt): what the call may cost at most. A retry that
 * finds it without a reply record knows that a call may have been billed and charges its worst case.
 */
export interface CallStarted {
  step: number;
  attempt: number;
  /** How many times this (step, attempt) has been sent, this send included. */
  send: number;
  at: string;
  /** The prompt's token bound and the full `max_tokens` reply, priced. */
  worstCaseUsd: number;
  usage: Usage;
  /** Set when the call ended without a reply and certainly unbilled (e.g. a 429): nothing to charge. */
  unbilled?: string;
}

const stepKey = (step: number, attempt: number) => `${String(step).padStart(6, '0')}.${attempt}`;
/** The reply record: written once the reply (or a rejection) is back; a retry returns it without a call. */
export const callRecordName = (step: number, attempt: number) => `llm/${stepKey(step, attempt)}.json`;
/** The "call started" record: written before each send, overwritten by the next send of the same key. */
export const callStartedName = (step: number, attempt: number) => `llm-started/${stepKey(step, attempt)}.json`;
/** The worst-case charge for send `send` of (step, attempt), whose reply was never recorded. */
export const uncertainCallName = (step: number, attempt: number, send: number) => `llm/${stepKey(step, attempt)}.uncertain-${send}.json`;

/** Every stored model call of a run, in order: the source of truth for its spend and its history. */
export async function readCalls(store: ArtifactStore, runId: string): Promise<CallRecord[]> {
  const files = await store.list(runId, 'llm');
  const calls = await Promise.all(files.map((f) => store.readJson<CallRecord>(runId, `llm/${f}`)));
  // Within a (step, attempt), the uncertain charges of lost sends come before the reply that ended it.
  const rank = (c: CallRecord) => (c.uncertain ? (c.send ?? 0) : Number.MAX_SAFE_INTEGER);
  return calls.filter((c): c is CallRecord => c !== undefined).sort((a, b) => a.step - b.step || a.attempt - b.attempt || rank(a) - rank(b));
}

export interface Spend {
  calls: number;
  reasks: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export function totalSpend(calls: CallRecord[]): Spend {
  return calls.reduce<Spend>(
    (s, c) => ({
      calls: s.calls + 1,
      reasks: s.reasks + (c.attempt > 0 ? 1 : 0),
      promptTokens: s.promptTokens + c.usage.promptTokens,
      completionTokens: s.completionTokens + c.usage.completionTokens,
      costUsd: s.costUsd + c.costUsd,
    }),
    { calls: 0, reasks: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 },
  );
}

const CHARS_PER_TOKEN = 4;

/** A typical token count (~4 characters a token): for usage the server did not report, and the context check. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function promptText(request: ChatCompletionCreateParamsNonStreaming): string {
  return JSON.stringify({ messages: request.messages, tools: request.tools });
}

export function estimatePromptTokens(request: ChatCompletionCreateParamsNonStreaming): number {
  return estimateTokens(promptText(request));
}

/** Room for the chat template's special tokens beyond the JSON's own punctuation. */
const TEMPLATE_TOKENS = 64;

/**
 * An upper bound on the prompt's tokens: byte-level and byte-fallback tokenizers never make more
 * tokens than UTF-8 bytes, and the JSON's quotes and keys outweigh the per-message template tokens.
 */
export function promptTokensBound(request: ChatCompletionCreateParamsNonStreaming): number {
  return Buffer.byteLength(promptText(request), 'utf8') + TEMPLATE_TOKENS;
}

export function priceUsd(entry: ModelEntry, promptTokens: number, completionTokens: number): number {
  return (promptTokens * entry.price_input_per_mtok + completionTokens * entry.price_output_per_mtok) / 1e6;
}

/** The most the call can cost: the prompt's bound plus a full `max_output_tokens` reply. */
export function worstCaseUsd(entry: ModelEntry, request: ChatCompletionCreateParamsNonStreaming): number {
  return priceUsd(entry, promptTokensBound(request), entry.max_output_tokens);
}

/** The record to write before sending `request` for the `send`-th time under (step, attempt). */
export function startedCall(entry: ModelEntry, request: ChatCompletionCreateParamsNonStreaming, step: number, attempt: number, send: number): CallStarted {
  const usage: Usage = { promptTokens: promptTokensBound(request), completionTokens: entry.max_output_tokens, estimated: true };
  return { step, attempt, send, at: new Date().toISOString(), worstCaseUsd: worstCaseUsd(entry, request), usage };
}

/** The charge for a started call whose reply was never recorded: it may have been billed, at most its worst case. */
export function uncertainCharge(started: CallStarted, request: ChatCompletionCreateParamsNonStreaming, hints: string[]): CallRecord {
  const { step, attempt, send, at, worstCaseUsd: costUsd, usage } = started;
  return { step, attempt, at, hints, request, usage, costUsd, uncertain: true, send };
}

export function usageOf(request: ChatCompletionCreateParamsNonStreaming, response: ChatCompletion): Usage {
  if (response.usage) return { promptTokens: response.usage.prompt_tokens, completionTokens: response.usage.completion_tokens, estimated: false };
  const message = response.choices[0]?.message;
  const replyText = (message?.content ?? '') + JSON.stringify(message?.tool_calls ?? []);
  return { promptTokens: estimatePromptTokens(request), completionTokens: estimateTokens(replyText), estimated: true };
}

/** Why the next call may not be made, if it may not: it could take the spend past the budget. */
export function overBudget(budgetUsd: number, spentUsd: number, worstUsd: number): string | undefined {
  if (spentUsd + worstUsd <= budgetUsd) return undefined;
  return `the next model call could cost up to $${worstUsd.toFixed(4)}; $${spentUsd.toFixed(4)} of the $${budgetUsd.toFixed(4)} budget is spent`;
}
