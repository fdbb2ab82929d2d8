import type { ChatCompletion } from 'openai/resources/chat/completions';
import { callRecordName, readCalls, type CallRecord } from '../agent/ledger.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { actionText, readAttempts, recordName } from '../run/records.js';
import type { Attempt, TurnResult } from '../run/types.js';

/** What a fork carries over from its parent's first steps into its workflow state. */
export interface InheritedSteps {
  /** The fork's next step. */
  step: number;
  attempts: Attempt[];
  lastAction: string;
}

/**
 * Give the fork the parent's steps 0..atStep as its own: turns, observations, attempts and model calls.
 * An LLM agent rebuilds its prompt from these records, so the fork's model sees the parent's conversation
 * and is not asked for those steps. Copied model calls cost the fork nothing (costUsd 0: the parent paid);
 * a step the parent's agent took without a model (replay, baseline) gets a synthetic reply holding its
 * thought and action, so an LLM fork of such a run still has a conversation to go on from.
 */
export async function copyHistory(store: ArtifactStore, parentRunId: string, forkId: string, atStep: number): Promise<InheritedSteps> {
  const calls = (await readCalls(store, parentRunId)).filter((c) => c.step <= atStep && !c.uncertain);
  let lastAction = '';
  for (let step = 0; step <= atStep; step++) {
    const turn = await store.readJson<TurnResult>(parentRunId, recordName.turn(step));
    if (!turn) throw new Error(`run ${parentRunId} has no recorded turn for step ${step}`);
    await store.writeJson(forkId, recordName.turn(step), turn);
    const observation = await store.readBuffer(parentRunId, recordName.observation(step));
    if (observation) await store.write(forkId, recordName.observation(step), observation);
    const own = calls.filter((c) => c.step === step);
    const copies = own.some((c) => c.response) ? own : [syntheticCall(step, turn)];
    for (const call of copies) await store.writeJson(forkId, callRecordName(call.step, call.attempt), { ...call, costUsd: 0, inheritedFrom: parentRunId });
    lastAction = actionText(turn).split('\n')[0]!;
  }
  const attempts = (await readAttempts(store, parentRunId)).filter((a) => a.step <= atStep).sort((a, b) => a.step - b.step);
  for (const attempt of attempts) await store.writeJson(forkId, recordName.attempt(attempt.step), attempt);
  return { step: atStep + 1, attempts, lastAction };
}

/** A model reply standing for a step the parent's agent took without a model: its thought, then its action as a command block. */
export function syntheticCall(step: number, turn: TurnResult): CallRecord {
  const content = `${turn.thought ? `${turn.thought}\n` : ''}\`\`\`\n${actionText(turn)}\n\`\`\``;
  const response: ChatCompletion = {
    id: `inherited-${step}`,
    object: 'chat.completion',
    created: 0,
    model: 'inherited',
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null } }],
  };
  return {
    step,
    attempt: 0,
    at: new Date(0).toISOString(),
    hints: turn.hints ?? [],
    request: { model: 'inherited', messages: [] },
    response,
    usage: { promptTokens: 0, completionTokens: 0, estimated: true },
    costUsd: 0,
  };
}
