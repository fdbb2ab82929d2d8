import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessage, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ArtifactStore } from '../artifacts/store.js';
import type { LoadedTask } from '../config/load.js';
import type { ModelEntry } from '../config/schema.js';
import { recordName, type ObservationRecord } from '../run/records.js';
import type { ExitReason, TurnResult } from '../run/types.js';
import { WORKSPACE } from '../sandbox/docker.js';
import { assistantMessage, historyMessages, type Exchange } from './history.js';
import {
  callRecordName,
  callStartedName,
  estimatePromptTokens,
  overBudget,
  priceUsd,
  readCalls,
  startedCall,
  totalSpend,
  uncertainCallName,
  uncertainCharge,
  usageOf,
  worstCaseUsd,
  type CallRecord,
  type CallStarted,
} from './ledger.js';
import { callModel, certainlyUnbilled, chatRequest } from './llm.js';
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
 * (step, attempt) before it is used, so a retried turn reuses the replies already paid for; a call
 * that was sent but whose reply was never stored is charged at its worst case before it is made again.
 */
export async function llmTurn(input: LlmTurnInput): Promise<TurnResult> {
  const format: ReplyFormat = input.entry.tool_calling ? 'tools' : 'text';
  const ledger = await readCalls(input.store, input.runId);
  let messages = await prompt(input, format, ledger);
  const charges = new StepCharges(ledger.filter((c) => c.step === input.step));
  for (let attempt = 0; attempt <= MAX_REASKS; attempt++) {
    const call = await callOnce(input, attempt, messages, format, charges);
    if ('stop' in call) return exit(call.stop, call.message, charges.totalUsd());
    if (!call.response) return exit(call.failure!.reason, call.failure!.message, charges.totalUsd());
    const { message, finish_reason } = call.response.choices[0]!;
    const parsed = format === 'tools' ? parseToolReply(message.content, message.tool_calls) : parseTextReply(message.content ?? '', finish_reason === 'length');
    if (parsed.ok) return { action: parsed.action, thought: parsed.thought, costUsd: charges.totalUsd() };
    messages = [...messages, ...reask(message, parsed.error, format)];
  }
  return exit('exit_format', `${MAX_REASKS + 1} replies in a row could not be parsed`, charges.totalUsd());
}

/**
 * The step's ledger records, each counted once: those earlier attempts of the turn stored and those
 * this one stores. Their sum is the turn's cost, uncertain charges included.
 */
class StepCharges {
  private readonly records = new Map<string, number>();
  constructor(stored: CallRecord[]) {
    for (const c of stored) this.add(c);
  }
  add(c: CallRecord): CallRecord {
    this.records.set(c.uncertain ? `${c.attempt}.uncertain-${c.send}` : `${c.attempt}`, c.costUsd);
    return c;
  }
  totalUsd(): number {
    return [...this.records.values()].reduce((sum, usd) => sum + usd, 0);
  }
}

function exit(reason: ExitReason, message: string, costUsd: number): TurnResult {
  return { action: { kind: 'exit', reason }, thought: message, costUsd };
}

/**
 * The stored reply for (step, attempt), or a new call if the context window and the budget allow it.
 * A "call started" record with the call's worst-case cost is stored before the call is sent. A retry
 * that finds it without a reply record charges that worst case to the ledger (the call may have been
 * billed) before the budget check, then makes the call again.
 */
async function callOnce(input: LlmTurnInput, attempt: number, messages: ChatCompletionMessageParam[], format: ReplyFormat, charges: StepCharges): Promise<CallRecord | Stop> {
  const { store, runId, step, entry } = input;
  const stored = await store.readJson<CallRecord>(runId, callRecordName(step, attempt));
  if (stored) return charges.add(stored);
  const request = chatRequest(entry, messages, format === 'tools' ? [RUN_TOOL] : undefined);
  const lost = await store.readJson<CallStarted>(runId, callStartedName(step, attempt));
  if (lost && !lost.unbilled) {
    const charge = uncertainCharge(lost, request, input.hints);
    await store.writeJson(runId, uncertainCallName(step, attempt, lost.send), charge);
    charges.add(charge);
    await store.log(runId, `step ${step}: call ${attempt} (send ${lost.send}) was sent but its reply was never recorded: charged its worst case, $${charge.costUsd.toFixed(4)}`);
  }
  const stop = await preflight(input, request);
  if (stop) return stop;
  const started = startedCall(entry, request, step, attempt, (lost?.send ?? 0) + 1);
  await store.writeJson(runId, callStartedName(step, attempt), started);
  let outcome: Awaited<ReturnType<typeof callModel>>;
  try {
    outcome = await callModel(entry, request);
  } catch (err) {
    // Certainly not billed (a 429, a refused connection): the retry has nothing to charge.
    if (certainlyUnbilled(err)) await store.writeJson(runId, callStartedName(step, attempt), { ...started, unbilled: (err as Error).message } satisfies CallStarted);
    throw err;
  }
  const base = { step, attempt, at: new Date().toISOString(), hints: input.hints, request };
  const record: CallRecord = outcome.ok
    ? { ...base, response: outcome.response, ...priced(entry, request, outcome.response) }
    : { ...base, failure: { reason: outcome.reason, message: outcome.message }, usage: { promptTokens: 0, completionTokens: 0, estimated: false }, costUsd: 0 };
  await store.writeJson(runId, callRecordName(step, attempt), record);
  return charges.add(record);
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
async function prompt(input: LlmTurnInput, format: ReplyFormat, calls: CallRecord[]): Promise<ChatCompletionMessageParam[]> {
  const { store, runId, step, maxSteps, task } = input;
  const hintsAt = (s: number) => (s === step ? input.hints : (calls.find((c) => c.step === s)?.hints ?? []));
  const exchanges: Exchange[] = [];
  for (let s = 0; s < step; s++) {
    const accepted = calls.filter((c) => c.step === s && c.response).at(-1)?.response?.choices[0]?.message;
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
