import { continueAsNew, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ExitReason, RunInput, RunResult, RunState } from '../lib/run/types.js';
import { MlgymStatus } from '../lib/temporal/searchAttributes.js';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['ConfigError'] };

const { provision } = proxyActivities<Activities>({ startToCloseTimeout: '1h', heartbeatTimeout: '2m', retry: { ...retry, maximumAttempts: 10 } });
const { agentTurn } = proxyActivities<Activities>({ startToCloseTimeout: '10m', retry: { ...retry, maximumAttempts: 20 } });
const { toolExec } = proxyActivities<Activities>({ startToCloseTimeout: '26h', heartbeatTimeout: '30s', retry });
const { grade } = proxyActivities<Activities>({ startToCloseTimeout: '2h', retry: { ...retry, maximumAttempts: 10 } });
const { score, teardown } = proxyActivities<Activities>({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 10 } });

/** One durable run of an agent on a task: provision → (agent turn → tool exec)* → submit → score → teardown. */
export async function agentRun(input: RunInput): Promise<RunResult> {
  const { runId, taskId, model } = input;
  const state: RunState = input.state ?? { step: 0, costUsd: 0, attempts: [], ...(await provision({ runId, taskId, model })) };
  upsertSearchAttributes([{ key: MlgymStatus, value: 'running' }]);
  const stepsAtStart = state.step;

  let endedBy: ExitReason | 'submit' | undefined;
  while (!endedBy) {
    if (state.step >= input.maxSteps) {
      endedBy = 'max_steps';
      break;
    }
    if (state.step - stepsAtStart >= input.continueEvery || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof agentRun>({ ...input, state });
    }
    const step = state.step;
    const turn = await agentTurn({ runId, taskId, model, step });
    state.costUsd += turn.costUsd;
    const { action } = turn;
    if (action.kind === 'command') {
      await toolExec({ runId, taskId, step, containerId: state.containerId, command: action.command });
    } else if (action.kind === 'validate' || action.kind === 'submit') {
      state.attempts.push(await grade({ runId, taskId, step, kind: action.kind, image: state.image }));
      if (action.kind === 'submit') endedBy = 'submit';
    } else {
      endedBy = action.reason;
    }
    state.step++;
  }

  if (endedBy !== 'submit' && endedBy !== 'exit_forfeit') {
    // Autosubmit: evaluate the workspace as it is.
    state.attempts.push(await grade({ runId, taskId, step: state.step, kind: 'submit', image: state.image }));
  }
  const result = await score({ runId, taskId, model, steps: state.step, costUsd: state.costUsd, attempts: state.attempts, endedBy });
  await teardown({ runId, keep: input.keep });
  upsertSearchAttributes([{ key: MlgymStatus, value: result.status }]);
  return result;
}
