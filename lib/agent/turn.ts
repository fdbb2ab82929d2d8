import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessage, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ArtifactStore } from '../artifacts/store.js';
import type { LoadedTask } from '../config/load.js';
import type { ModelEntry } from '../config/schema.js';
import { recordName, type ObservationRecord } from '../run/records.js';
import type { ExitReason, TurnResult } from '../run/types.js';
import { WORKSPACE } from '../sandbox/docker.js';
import { assistantMessage, historyMessages, type Exchange } from './history.js';
import { callRecordName, estimatePromptTokens, overBudget, priceUsd, readCalls, totalSpend, usageOf, worstCaseUsd, type CallRecord } from './ledger.js';
import { callModel, chatRequest } from './llm.js';
import { parseTextReply, parseToolReply } from './parse.js';
import { reaskMessage, RUN_TOOL, systemMessage, taskMessage, type Position, type ReplyFormat } from './prompt.js';

/** Format-error re-asks in one turn before the run ends with `exit_format` (MLGym's limit). */
export const MAX_REASKS = 3;

export interface LlmTurnInput {
  store: ArtifactStore;
  runId: string;
  step: number;
  maxSteps: number;
  hints: string[];
  budgetUsd: number;
  entry: ModelEntry;
  task: LoadedTask;
  commandDocs: string;
}

type Stop = { stop: ExitReason; message: string };

/**
 * One turn of an LLM agent: ask, parse, re-ask on a format error. Every call is stored under
 * (step, attempt) before it is used, so a retried turn reuses the calls already paid for.
 */
export async function llmTurn(input: LlmTurnInput): Promise<TurnResult> {
  const format: ReplyFormat = input.entry.tool_calling ? 'tools' : 'text';
  let messages = await prompt(input, format);
  let costUsd = 0;
  for (let attempt = 0; attempt <= MAX_REASKS; attempt++) {
    const call = await callOnce(input, attempt, messages, format);
    if ('stop' in call) return exit(call.stop, call.message, costUsd);
    costUsd += call.costUsd;
    if (!call.response) return exit(call.failure!.reason, call.failure!.message, costUsd);
    const { message, finish_reason } = call.response.choices[0]!;
    const parsed = format === 'tools' ? parseToolReply(message.content, message.tool_calls) : parseTextReply(message.content ?? '', finish_reason === 'length');
    if (parsed.ok) return { action: parsed.action, thought: parsed.thought, costUsd };
    messages = [...messages, ...reask(message, parsed.error, format)];
  }
  return exit('exit_format', `${MAX_REASKS + 1} replies in a row could not be parsed`, costUsd);
}

function exit(reason: ExitReason, message: string, costUsd: number): TurnResult {
  return { action: { kind: 'exit', reason }, thought: message, costUsd };
}

/** The stored call for (step, attempt), or a new one if the context window and the budget allow it. */
async function callOnce(input: LlmTurnInput, attempt: number, messages: ChatCompletionMessageParam[], format: ReplyFormat): Promise<CallRecord | Stop> {
  const { store, runId, step, entry } = input;
  const stored = await store.readJson<CallRecord>(runId, callRecordName(step, attempt));
  if (stored) return stored;
  const request = chatRequest(entry, messages, format === 'tools' ? [RUN_TOOL] : undefined);
  const stop = await preflight(input, request);
  if (stop) return stop;
  const outcome = await callModel(entry, request);
  const base = { step, attempt, at: new Date().toISOString(), hints: input.hints, request };
  const record: CallRecord = outcome.ok
    ? { ...base, response: outcome.response, ...priced(entry, request, outcome.response) }
    : { ...base, failure: { reason: outcome.reason, message: outcome.message }, usage: { promptTokens: 0, completionTokens: 0, estimated: false }, costUsd: 0 };
  await store.writeJson(runId, callRecordName(step, attempt), record);
  return record;
}

function priced(entry: ModelEntry, request: ChatCompletionCreateParamsNonStreaming, response: NonNullable<CallRecord['response']>) {
  const usage = usageOf(request, response);
  return { usage, costUsd: priceUsd(entry, usage.promptTokens, usage.completionTokens) };
}

async function preflight({ store, runId, entry, budgetUsd }: LlmTurnInput, request: ChatCompletionCreateParamsNonStreaming): Promise<Stop | undefined> {
  const promptTokens = estimatePromptTokens(request);
  if (promptTokens + entry.max_output_tokens > entry.context_window) {
    return { stop: 'exit_context', message: `the prompt (~${promptTokens} tokens) and a ${entry.max_output_tokens}-token reply do not fit the ${entry.context_window}-token context window` };
  }
  const spent = totalSpend(await readCalls(store, runId)).costUsd;
  const over = overBudget(budgetUsd, spent, worstCaseUsd(entry, request));
  return over ? { stop: 'exit_cost', message: over } : undefined;
}

function reask(reply: ChatCompletionMessage, error: string, format: ReplyFormat): ChatCompletionMessageParam[] {
  const text = reaskMessage(error, format);
  // Every tool call must be answered before the conversation may go on.
  const calls = reply.tool_calls ?? [];
  const answers: ChatCompletionMessageParam[] = calls.length ? calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: `Not run. ${text}` })) : [{ role: 'user', content: text }];
  return [assistantMessage(reply), ...answers];
}

/** The turn's prompt, rebuilt from the run's stored steps and model calls. */
async function prompt(input: LlmTurnInput, format: ReplyFormat): Promise<ChatCompletionMessageParam[]> {
  const { store, runId, step, maxSteps, task } = input;
  const calls = await readCalls(store, runId);
  const hintsAt = (s: number) => (s === step ? input.hints : (calls.find((c) => c.step === s)?.hints ?? []));
  const exchanges: Exchange[] = [];
  for (let s = 0; s < step; s++) {
    const accepted = calls.filter((c) => c.step === s).at(-1)?.response?.choices[0]?.message;
    if (!accepted) throw new Error(`run ${runId}: step ${s} has no stored model reply to rebuild the history from`);
    const obs = await store.readJson<ObservationRecord>(runId, recordName.observation(s));
    exchanges.push({ step: s, reply: accepted, observation: obs?.observation ?? '', hints: hintsAt(s + 1), position: position(s + 1, maxSteps, obs) });
  }
  const system = systemMessage(task, input.commandDocs, format);
  return historyMessages(system, taskMessage(task, format, hintsAt(0), position(0, maxSteps)), exchanges);
}

/** The open file and working directory after a step, when its observation record carries them. */
function position(stepsUsed: number, maxSteps: number, state: Pick<ObservationRecord, 'openFile' | 'workingDir'> = {}): Position {
  return { stepsUsed, maxSteps, openFile: state.openFile ?? 'n/a', workingDir: state.workingDir ?? WORKSPACE };
}
