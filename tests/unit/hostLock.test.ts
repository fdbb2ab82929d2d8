import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireHostLock, withHostLock } from '../../lib/hostLock.js';

describe('host locks (MLGYM_HOME/locks)', () => {
  beforeEach(() => {
    vi.stubEnv('MLGYM_HOME', mkdtempSync(join(tmpdir(), 'mlgym-lock-')));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('lets one holder in at a time: the second waits until the first releases, even through a throw', async () => {
    const events: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const first = withHostLock('image-mlgym-env:abc', 60_000, async () => {
      events.push('first in');
      await gate;
      events.push('first out');
      throw new Error('build failed');
    });
    // The first holds the lock before the second asks.
    while (!events.includes('first in')) await new Promise((r) => setImmediate(r));
    const second = withHostLock('image-mlgym-env:abc', 60_000, async () => {
      events.push('second in');
      return 'built';
    });
    const other = await withHostLock('image-mlgym-env:other', 60_000, async () => 'another image, not held up');
    expect(other).toBe('another image, not held up');
    expect(events).toEqual(['first in']);
    open();
    await expect(first).rejects.toThrow('build failed');
    expect(await second).toBe('built');
    expect(events).toEqual(['first in', 'first out', 'second in']);
  });

  it('gives up after its wait with the lock still held elsewhere', async () => {
    const release = await acquireHostLock('busy', 1_000);
    await expect(acquireHostLock('busy', 1_000)).rejects.toThrow(/already being held/);
    await release();
    await (await acquireHostLock('busy', 1_000))();
  });
});
