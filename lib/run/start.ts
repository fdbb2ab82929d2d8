// How an agentRun workflow is started, whoever starts it: the CLI and the tests through the client, the
// benchmark workflow as a child. Pure (no Node built-ins): imported by workflow code.
import { WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import { MlgymBenchId, MlgymForkStep, MlgymModel, MlgymParentRun, MlgymStatus, MlgymTask } from '../temporal/searchAttributes.js';
import { runStartTimeouts } from './timeouts.js';
import type { RunInput } from './types.js';

/** The options of `client.workflow.start('agentRun', …)` and of `executeChild(agentRun, …)`. */
export interface RunStartOptions {
  /** The run id. */
  workflowId: string;
  /** Absent: a child run stays on its parent's task queue. */
  taskQueue?: string;
  args: [RunInput];
  workflowTaskTimeout: string;
  /** A run id names one run: only a run that failed (or was terminated) may be started again under it. */
  workflowIdReusePolicy: WorkflowIdReusePolicy;
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
}

/** One line for the Temporal UI: task (and data variant), model, seed, GPUs, MLGym's protocol, benchmark. */
export function runStaticSummary({ taskId, data, model, seed, gpus, protocol, benchId, fork }: RunInput): string {
  return [
    `${taskId}${data === 'fixture' ? ' (fixture data)' : ''}`,
    model,
    `seed ${seed}`,
    ...(gpus ? [`${gpus} GPU(s)`] : []),
    ...(protocol === 'mlgym' ? ['MLGym protocol (validate shows test)'] : []),
    ...(benchId ? [benchId] : []),
    ...(fork ? [`fork of ${fork.parentRunId} after step ${fork.atStep}`] : []),
  ].join(' · ');
}

/**
 * The start options of a run: its id, task queue (a child run without one stays on its parent's), timeouts
 * (lib/run/timeouts.ts), id reuse policy, search attributes and summary.
 */
export function runStartOptions(input: RunInput, taskQueue: string): RunStartOptions & { taskQueue: string };
export function runStartOptions(input: RunInput, taskQueue?: string): RunStartOptions;
export function runStartOptions(input: RunInput, taskQueue?: string): RunStartOptions {
  return {
    workflowId: input.runId,
    ...(taskQueue === undefined ? {} : { taskQueue }),
    args: [input],
    ...runStartTimeouts(input),
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    typedSearchAttributes: [
      { key: MlgymTask, value: input.taskId },
      { key: MlgymModel, value: input.model },
      { key: MlgymStatus, value: 'starting' },
      ...(input.benchId ? [{ key: MlgymBenchId, value: input.benchId }] : []),
      ...(input.fork ? [{ key: MlgymParentRun, value: input.fork.parentRunId }, { key: MlgymForkStep, value: input.fork.atStep }] : []),
    ],
    staticSummary: runStaticSummary(input),
  };
}
