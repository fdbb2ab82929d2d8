import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { allotGpus, GpuConfigError, GpusBusy, hostGpus, leasedGpus, releaseGpus } from '../../lib/sandbox/gpus.js';

const env = { MLGYM_GPUS: '0,1,2,3' };
const live = async () => true;

describe('GPU allotment', () => {
  beforeEach(() => {
    vi.stubEnv('MLGYM_HOME', mkdtempSync(join(tmpdir(), 'mlgym-gpus-')));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('gives concurrent runs disjoint GPUs, and a run asking again the same ones', async () => {
    const [a, b] = await Promise.all([allotGpus('run-a', 2, live, env), allotGpus('run-b', 2, live, env)]);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
    expect(new Set([...a, ...b]).size).toBe(4);
    expect(await allotGpus('run-a', 2, live, env)).toEqual(a);
    expect(leasedGpus('run-b')).toEqual(b);
  });

  it('makes a run wait (GpusBusy) while the GPUs are taken, until they are released', async () => {
    await allotGpus('run-a', 3, live, env);
    const busy = await allotGpus('run-b', 2, live, env).catch((err) => err);
    expect(busy).toBeInstanceOf(GpusBusy);
    expect(busy.message).toBe("waiting for 2 GPU(s): 1 of this host's 4 are free");
    await releaseGpus('run-a');
    await releaseGpus('run-a'); // idempotent
    expect(await allotGpus('run-b', 2, live, env)).toEqual(['0', '1']);
    expect(leasedGpus('run-a')).toBeUndefined();
  });

  it('reclaims the lease of a run that is no longer open', async () => {
    await allotGpus('run-gone', 4, live, env);
    const open = async (runId: string) => runId !== 'run-gone';
    expect(await allotGpus('run-new', 4, open, env)).toEqual(['0', '1', '2', '3']);
    expect(leasedGpus('run-gone')).toBeUndefined();
  });

  it('refuses a run asking for more GPUs than the host has, and a bad MLGYM_GPUS', async () => {
    const tooMany = await allotGpus('run-a', 5, live, env).catch((err) => err);
    expect(tooMany).toBeInstanceOf(GpuConfigError);
    expect(tooMany.message).toContain('asks for 5 GPU(s) but this worker has 4');
    const none = await allotGpus('run-a', 1, live, {}).catch((err) => err);
    expect(none).toBeInstanceOf(GpuConfigError);
    expect(() => hostGpus({ MLGYM_GPUS: '0,1,0' })).toThrow('lists a GPU twice');
    expect(await allotGpus('run-cpu', 0, live, {})).toEqual([]);
  });
});
