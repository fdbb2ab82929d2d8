import { ApplicationFailure } from '@temporalio/activity';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { ConfigError, loadTask, type LoadedTask } from '../lib/config/load.js';
import { datasetsDir, taskFile } from '../lib/home.js';

export interface ActivityDeps {
  store: ArtifactStore;
}

export function defaultDeps(): ActivityDeps {
  return { store: new ArtifactStore() };
}

/** Load a task; a broken config is not worth retrying, so it fails the activity for good. */
export function taskOrFail(taskId: string): LoadedTask {
  try {
    return loadTask(taskFile(taskId), datasetsDir);
  } catch (err) {
    if (err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
    throw err;
  }
}
