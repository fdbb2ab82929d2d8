import { closeSync, mkdirSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { mlgymHome } from './home.js';

/** How often a waiting process tries again (a cheap mkdir). */
const RETRY_MS = 100;

/**
 * Holds the lock `name` among the processes of this host that share MLGYM_HOME (MLGYM_HOME/locks/<name>),
 * waiting up to `waitMs` for it; resolves to the release. proper-lockfile keeps the lock fresh while it is
 * held, so the lock of a process that died goes stale after 30 s and the next waiter takes it. A holder
 * stalled for that long loses the lock to a waiter rather than ending its process (proper-lockfile's
 * default throws from a timer).
 */
export async function acquireHostLock(name: string, waitMs: number, dir = join(mlgymHome(), 'locks')): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name.replace(/[^A-Za-z0-9._-]/g, '_'));
  closeSync(openSync(file, 'a'));
  return lockfile.lock(file, {
    stale: 30_000,
    update: 5_000,
    retries: { retries: Math.ceil(waitMs / RETRY_MS), factor: 1, minTimeout: RETRY_MS, maxTimeout: RETRY_MS },
    onCompromised: () => undefined,
  });
}

/**
 * Where locks on the machine's own resources live (loop devices belong to the kernel, not to one
 * MLGYM_HOME: two workers with their own homes on one machine share them). Root's is /run/lock; a
 * user's, who cannot change those resources anyway, is under the temporary folder.
 */
export function machineLocksDir(): string {
  return process.getuid?.() === 0 ? '/run/lock/mlgym' : join(tmpdir(), `mlgym-locks-${process.getuid?.() ?? 'user'}`);
}

/** Runs `fn` holding the host lock `name` (see acquireHostLock), among the processes that share `dir`. */
export async function withHostLock<T>(name: string, waitMs: number, fn: () => Promise<T>, dir?: string): Promise<T> {
  const release = await acquireHostLock(name, waitMs, dir);
  try {
    return await fn();
  } finally {
    await release();
  }
}
