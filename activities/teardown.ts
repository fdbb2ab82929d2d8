import { removeRunResources } from '../lib/sandbox/container.js';
import type { ActivityDeps } from './context.js';

export interface TeardownInput {
  runId: string;
  keep: boolean;
}

/** Remove the run's containers and volume, unless the user asked to keep them. */
export function makeTeardown({ store }: ActivityDeps) {
  return async function teardown({ runId, keep }: TeardownInput): Promise<void> {
    if (keep) return store.log(runId, 'kept container and volume (--keep)');
    await removeRunResources(runId);
    await store.log(runId, 'removed container and volume');
  };
}
