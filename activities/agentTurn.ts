import { ApplicationFailure } from '@temporalio/activity';
import { baselineTurn } from '../lib/agent/baseline.js';
import { recordName } from '../lib/run/records.js';
import type { TurnResult } from '../lib/run/types.js';
import { taskOrFail, type ActivityDeps } from './context.js';

export interface AgentTurnInput {
  runId: string;
  taskId: string;
  model: string;
  step: number;
  maxSteps: number;
  /** Operator hints to add to the observation the agent sees this turn. */
  hints: string[];
  budgetUsd: number;
  spentUsd: number;
}

/** Decide the next action. The reply is stored under the step's key first, so a retry returns it unchanged. */
export function makeAgentTurn({ store }: ActivityDeps) {
  return async function agentTurn({ runId, taskId, model, step }: AgentTurnInput): Promise<TurnResult> {
    return store.once(runId, recordName.turn(step), async () => {
      const task = taskOrFail(taskId);
      if (model === 'baseline') return baselineTurn(task, step);
      throw ApplicationFailure.nonRetryable(`unknown model "${model}"`, 'ConfigError');
    });
  };
}
