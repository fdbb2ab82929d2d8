import type { Client } from '@temporalio/client';
import { newRunId } from '../../lib/run/ids.js';
import { runStartOptions } from '../../lib/run/start.js';
import type { RunInput } from '../../lib/run/types.js';

export function runInput(taskId: string, model: string, overrides: Partial<RunInput> = {}): RunInput {
  const seed = overrides.seed ?? 0;
  return { runId: newRunId(taskId, model, seed), taskId, model, seed, maxSteps: 20, keep: false, continueEvery: 100, ...overrides };
}

/** Start a run as `mlgym run` does (lib/run/start.ts). */
export function startRun(client: Client, taskQueue: string, input: RunInput) {
  return client.workflow.start('agentRun', runStartOptions(input, taskQueue));
}
