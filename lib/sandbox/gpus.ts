import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { mlgymHome } from '../home.js';
import { withHostLock } from '../hostLock.js';

const LEASE_WAIT_MS = 10 * 60_000;

/**
 * GPUs of this host, allotted to runs without overlap. The worker's GPUs are MLGYM_GPUS (ids as
 * `nvidia-smi` numbers them, e.g. "0,1,2,3"); the leases live in MLGYM_HOME/gpus.json, so every
 * worker process of a host shares them. A lease is keyed by run id: asking again for the same run
 * returns the same GPUs (activities are retried), and a lease whose run no longer has a container
 * can be reclaimed by the caller through `isLive`.
 */
export class GpusBusy extends Error {
  constructor(readonly wanted: number, readonly free: number, readonly total: number) {
    super(`waiting for ${wanted} GPU(s): ${free} of this host's ${total} are free`);
    this.name = 'GpusBusy';
  }
}

export class GpuConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuConfigError';
  }
}

type Leases = Record<string, string[]>;

/** The host's GPU ids from MLGYM_GPUS ("0,1" or "GPU-uuid,..."); empty when unset. */
export function hostGpus(env: NodeJS.ProcessEnv = process.env): string[] {
  const ids = (env.MLGYM_GPUS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (new Set(ids).size !== ids.length) throw new GpuConfigError(`MLGYM_GPUS lists a GPU twice: ${env.MLGYM_GPUS}`);
  return ids;
}

function leaseFile(): string {
  return join(mlgymHome(), 'gpus.json');
}

function readLeases(): Leases {
  return existsSync(leaseFile()) ? (JSON.parse(readFileSync(leaseFile(), 'utf8')) as Leases) : {};
}

function writeLeases(leases: Leases): void {
  const tmp = `${leaseFile()}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(leases, null, 1));
  renameSync(tmp, leaseFile());
}

/** Run `fn` holding the host's lease lock; leases are held for moments, so a wait this long means something is stuck. */
function withLeaseLock<T>(fn: () => Promise<T>): Promise<T> {
  return withHostLock('gpu-leases', LEASE_WAIT_MS, fn);
}

/**
 * The GPUs leased to `runId`, leasing `count` free ones first if it holds none. Leases of runs for
 * which `isLive` says false are released on the way. Throws GpusBusy when too few are free.
 */
export async function allotGpus(runId: string, count: number, isLive: (runId: string) => Promise<boolean>, env = process.env): Promise<string[]> {
  if (count === 0) return [];
  const host = hostGpus(env);
  if (host.length < count) {
    throw new GpuConfigError(`the run asks for ${count} GPU(s) but this worker has ${host.length} (MLGYM_GPUS=${env.MLGYM_GPUS ?? ''}); start GPU workers with \`mlgym worker --gpus 0,1,...\``);
  }
  return withLeaseLock(async () => {
    const leases = readLeases();
    if (leases[runId]) return leases[runId];
    for (const other of Object.keys(leases)) if (!(await isLive(other))) delete leases[other];
    const taken = new Set(Object.values(leases).flat());
    const free = host.filter((id) => !taken.has(id));
    if (free.length < count) {
      writeLeases(leases);
      throw new GpusBusy(count, free.length, host.length);
    }
    leases[runId] = free.slice(0, count);
    writeLeases(leases);
    return leases[runId];
  });
}

/** The GPUs leased to `runId`, if any. */
export function leasedGpus(runId: string): string[] | undefined {
  return readLeases()[runId];
}

/** Give the run's GPUs back (idempotent). */
export async function releaseGpus(runId: string): Promise<void> {
  if (!existsSync(leaseFile())) return;
  await withLeaseLock(async () => {
    const leases = readLeases();
    if (!(runId in leases)) return;
    delete leases[runId];
    writeLeases(leases);
  });
}
