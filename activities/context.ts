import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { checkTaskData, ConfigError, loadTask, type LoadedTask } from '../lib/config/load.js';
import { allotGpus, GpuConfigError, GpusBusy } from '../lib/sandbox/gpus.js';
import { datasetsDir, taskFile } from '../lib/home.js';
import type { TaskRef } from '../lib/run/types.js';

export interface ActivityDeps {
  store: ArtifactStore;
}

export function defaultDeps(): ActivityDeps {
  return { store: new ArtifactStore() };
}

/** The run's data folders must exist; missing data is a setup problem, not worth retrying. */
export function dataOrFail(task: LoadedTask): void {
  try {
    checkTaskData(task);
  } catch (err) {
    if (err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
    throw err;
  }
}

/**
 * The host GPUs leased to the run (leasing them if it holds none). Too few free GPUs is retried
 * (the run waits); a worker without enough GPUs at all fails the run.
 */
export async function gpusOrFail(runId: string, count: number): Promise<string[]> {
  try {
    return await allotGpus(runId, count, runIsOpen);
  } catch (err) {
    if (err instanceof GpuConfigError) throw ApplicationFailure.nonRetryable(err.message, 'GpuConfigError');
    if (err instanceof GpusBusy) throw ApplicationFailure.retryable(err.message, 'GpusBusy');
    throw err;
  }
}

/** Whether the run's workflow is still running: a closed or unknown run's GPU lease is stale. */
async function runIsOpen(runId: string): Promise<boolean> {
  try {
    return (await Context.current().client.workflow.getHandle(runId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Load a task as the run uses it; a broken config is not worth retrying, so it fails the activity for good. */
export function taskOrFail({ taskId, taskFile: file, data, gpus }: TaskRef): LoadedTask {
  try {
    return loadTask(file ?? taskFile(taskId), datasetsDir, { data, gpus });
  } catch (err) {
    if (err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
    throw err;
  }
}
