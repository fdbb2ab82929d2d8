import { removeRunResources } from '../lib/sandbox/container.js';
import { releaseGpus } from '../lib/sandbox/gpus.js';
import type { ActivityDeps } from './context.js';

export interface TeardownInput {
  runId: string;
  keep: boolean;
}

/** Give back the run's GPUs; remove its containers and volume, unless the user asked to keep them. */
export function makeTeardown({ store }: ActivityDeps) {
  return async function teardown({ runId, keep }: TeardownInput): Promise<void> {
    await releaseGpus(runId);
    if (keep) return store.log(runId, 'kept container and volume (--keep)');
    await removeRunResources(runId);
    await store.log(runId, 'removed container and volume');
  };
}
