import type Docker from 'dockerode';
import { docker, labels } from '../lib/sandbox/docker.js';
import { sleep } from './stats.js';

/** Engine memory of a container as `docker stats` shows it: cgroup usage minus inactive page cache (MB). */
async function memoryMb(id: string): Promise<number> {
  const { memory_stats: m } = await docker().getContainer(id).stats({ stream: false, 'one-shot': true });
  const stats = (m.stats ?? {}) as Partial<Docker.MemoryStats['stats']> & { inactive_file?: number };
  return (m.usage - (stats.total_inactive_file ?? stats.inactive_file ?? 0)) / 2 ** 20;
}

/**
 * Mean memory per running container of the runs whose id starts with `prefix`, sampled when the
 * most of them ran at once (polled until `done` settles).
 */
export async function containerMemory(prefix: string, done: Promise<unknown>): Promise<{ containers: number; meanMb: number }> {
  let settled = false;
  void done.finally(() => (settled = true));
  let best = { containers: 0, meanMb: NaN };
  while (!settled) {
    const running = (await docker().listContainers({ filters: { label: [labels.run] } })).filter((c) => c.Labels[labels.run]!.startsWith(prefix));
    if (running.length > best.containers) {
      const mbs = await Promise.all(running.map((c) => memoryMb(c.Id).catch(() => NaN)));
      const known = mbs.filter((mb) => !Number.isNaN(mb));
      if (known.length) best = { containers: running.length, meanMb: known.reduce((a, b) => a + b, 0) / known.length };
    }
    await sleep(500);
  }
  return best;
}
