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

/** Runs `fn` holding the host lock `name` (see acquireHostLock). */
export async function withHostLock<T>(name: string, waitMs: number, fn: () => Promise<T>, dir?: string): Promise<T> {
  const release = await acquireHostLock(name, waitMs, dir);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * Runs `fn` holding the lock `name` among all the processes of this machine, whatever their MLGYM_HOME: for
 * the machine's own resources (loop devices are the kernel's, images the engine's), which two workers with
 * homes of their own on one machine share. Root's locks are in /run/lock; a user's, who cannot change those
 * resources anyway, under the temporary folder.
 */
export function withMachineLock<T>(name: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const uid = process.getuid?.();
  return withHostLock(name, waitMs, fn, uid === 0 ? '/run/lock/mlgym' : join(tmpdir(), `mlgym-locks-${uid ?? 'user'}`));
}
