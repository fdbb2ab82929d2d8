import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { afterAll, beforeAll } from 'vitest';
import { mlgymHome } from '../../lib/home.js';

/**
 * What an integration file may not share with another file running at the same time (the integration tier
 * runs several files at once, see vitest.config.ts). `default-queue`: the file's worker serves the shared
 * task queue (`mlgym`), where it would take the workflows of another file's CLI, whose environment (model
 * endpoint, task folders) it does not have.
 */
export type SharedResource = 'default-queue';

/** How long a file waits for another to release a resource: longer than the longest file runs. */
const WAIT_MS = 60 * 60_000;

/**
 * Holds `resources` from before the file's first test until after its last. The locks are files in the
 * suite's MLGYM_HOME, one per resource (proper-lockfile: a lock whose holder died goes stale in 30 s).
 */
export function useExclusively(...resources: SharedResource[]): void {
  const releases: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    for (const resource of [...resources].sort()) {
      const file = join(mlgymHome(), `test-${resource}.lock`);
      closeSync(openSync(file, 'a'));
      releases.push(await lockfile.lock(file, { stale: 30_000, update: 5_000, retries: { retries: WAIT_MS / 1_000, factor: 1, minTimeout: 1_000, maxTimeout: 1_000 } }));
    }
  }, WAIT_MS);
  afterAll(async () => {
    for (const release of releases.splice(0).reverse()) await release();
  });
}
