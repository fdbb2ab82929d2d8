import type { Client } from '@temporalio/client';
import { newRunId } from '../../lib/run/ids.js';
import { runStartTimeouts } from '../../lib/run/timeouts.js';
import type { RunInput } from '../../lib/run/types.js';
import { MlgymModel, MlgymTask } from '../../lib/temporal/searchAttributes.js';

export function runInput(taskId: string, model: string, overrides: Partial<RunInput> = {}): RunInput {
  const seed = overrides.seed ?? 0;
  return { runId: newRunId(taskId, model, seed), taskId, model, seed, maxSteps: 20, keep: false, continueEvery: 100, ...overrides };
}

export function startRun(client: Client, taskQueue: string, input: RunInput) {
  return client.workflow.start('agentRun', {
    taskQueue,
    workflowId: input.runId,
    args: [input],
    ...runStartTimeouts(input),
    typedSearchAttributes: [
      { key: MlgymTask, value: input.taskId },
      { key: MlgymModel, value: input.model },
    ],
  });
}
