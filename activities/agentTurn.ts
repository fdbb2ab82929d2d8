import { ApplicationFailure } from '@temporalio/activity';
import { baselineTurn } from '../lib/agent/baseline.js';
import { ModelSpecError, resolveAgentSpec } from '../lib/agent/models.js';
import { loadReplay, replayTurn } from '../lib/agent/replay.js';
import { llmTurn } from '../lib/agent/turn.js';
import type { ArtifactStore } from '../lib/artifacts/store.js';
import { ConfigError } from '../lib/config/load.js';
import { recordName } from '../lib/run/records.js';
import type { TaskRef, TurnResult } from '../lib/run/types.js';
import { commandDocs, commandsFor } from '../lib/tools/registry.js';
import { taskOrFail, type ActivityDeps } from './context.js';
import { withHeartbeat } from './heartbeat.js';

export interface AgentTurnInput extends TaskRef {
  runId: string;
  model: string;
  step: number;
  maxSteps: number;
  /** Operator hints to add to the observation the agent sees this turn. */
  hints: string[];
  budgetUsd: number;
}

/** A spec or replay file that cannot work is not worth retrying. */
function orConfigFailure<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ModelSpecError || err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
    throw err;
  }
}

/** The next action of the run's agent: baseline, replay or an LLM. */
async function decide(store: ArtifactStore, input: AgentTurnInput): Promise<TurnResult> {
  const { runId, model, step, maxSteps, hints, budgetUsd } = input;
  const task = taskOrFail(input);
  const agent = orConfigFailure(() => resolveAgentSpec(model));
  if (agent.kind === 'baseline') return withHints(baselineTurn(task, step), hints);
  if (agent.kind === 'external') throw ApplicationFailure.nonRetryable('an external agent sends its actions with the `step` update (docs/gym.md)', 'ConfigError');
  if (agent.kind === 'replay') return withHints(replayTurn(orConfigFailure(() => loadReplay(agent.file)), step), hints);
  const turn = await llmTurn({ store, runId, step, maxSteps, hints, budgetUsd, entry: agent.entry, task, commandDocs: commandDocs(commandsFor(task, input.protocol)) });
  if (turn.action.kind === 'exit') await store.log(runId, `step ${step}: ${turn.action.reason}: ${turn.thought}`);
  return withHints(turn, hints);
}

/** Agents without an LLM ignore hints; the record still shows which turn received them. */
function withHints(turn: TurnResult, hints: string[]): TurnResult {
  return hints.length ? { ...turn, hints } : turn;
}

/** Decide the next action. The reply is stored under the step's key first, so a retry returns it unchanged. */
export function makeAgentTurn({ store }: ActivityDeps) {
  return async function agentTurn(input: AgentTurnInput): Promise<TurnResult> {
    return store.once(input.runId, recordName.turn(input.step), () => withHeartbeat(() => decide(store, input)));
  };
}
