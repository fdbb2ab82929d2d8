import { afterAll, beforeAll } from 'vitest';
import { acquireHostLock } from '../../lib/hostLock.js';

/**
 * What an integration file may not share with another file running at the same time (the integration tier
 * runs several files at once, see vitest.config.ts). `default-queue`: the file's worker serves the shared
 * task queue (`mlgym`), where it would take the workflows of another file's CLI, whose environment (model
 * endpoint, task folders) it does not have.
 */
export type SharedResource = 'default-queue';

/** How long a file waits for another to release a resource: longer than the longest file runs. */
const WAIT_MS = 60 * 60_000;

/** Holds `resource` (a lock in the suite's MLGYM_HOME) from before the file's first test until after its last. */
export function useExclusively(resource: SharedResource): void {
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    release = await acquireHostLock(`test-${resource}`, WAIT_MS);
  }, WAIT_MS);
  afterAll(async () => release?.());
}
