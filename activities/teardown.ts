import { removeRunResources } from '../lib/sandbox/container.js';
import { releaseGpus } from '../lib/sandbox/gpus.js';
import type { ActivityDeps } from './context.js';

export interface TeardownInput {
  runId: string;
  keep: boolean;
}

/**
 * Give back the run's GPUs; remove its containers, volume and quota disk (loop device and image file),
 * unless the user asked to keep them. Its snapshots stay in the artifact store (forks start from them).
 */
export function makeTeardown({ store }: ActivityDeps) {
  return async function teardown({ runId, keep }: TeardownInput): Promise<void> {
    await releaseGpus(runId);
    if (keep) return store.log(runId, 'kept container, volume and disk (--keep)');
    await removeRunResources(runId);
    await store.log(runId, 'removed container, volume and disk');
  };
}
