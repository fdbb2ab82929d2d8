import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchSpec } from '../../lib/bench/types.js';
import { findAgentContainer, removeRunResources } from '../../lib/sandbox/container.js';
import { docker } from '../../lib/sandbox/docker.js';
import { leasedGpus, releaseGpus } from '../../lib/sandbox/gpus.js';
import { waitFor } from '../helpers/poll.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

/** The result of the run's completed reserveGpus activity, once there is one. */
async function reservedGpus(handle: WorkflowHandle): Promise<string[] | undefined> {
  const history = await handle.fetchHistory();
  const done = history.events?.find((e) => e.activityTaskCompletedEventAttributes);
  const payload = done?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
  return payload ? (JSON.parse(Buffer.from(payload).toString()) as string[]) : undefined;
}

/**
 * This machine has no GPU runtime: a run needing GPUs gets them leased and its container created
 * with the device request, but Docker cannot start it. That is as far as these tests follow a run.
 */
describe('runs that need GPUs', () => {
  const t = useTestTemporal();
  const suffix = randomBytes(3).toString('hex');
  const gpuQueue = `gpu-${suffix}`;
  const handles: WorkflowHandle[] = [];
  let stopWorkers: () => void = () => undefined;
  let workersDone: Promise<unknown> = Promise.resolve();

  beforeAll(async () => {
    process.env.MLGYM_GPUS = `fake-gpu-${suffix}`; // one GPU on this "host"
    const workers = [await t.worker(`cpu-${suffix}`), await t.worker(gpuQueue)];
    workersDone = Promise.all(workers.map((w) => w.run()));
    stopWorkers = () => workers.forEach((w) => w.shutdown());
  });

  afterAll(async () => {
    for (const h of handles) await h.terminate('test over').catch(() => undefined);
    // Workers first: an activity in flight when its run was terminated (a provision) still creates a container.
    stopWorkers();
    await workersDone;
    for (const h of handles) {
      await removeRunResources(h.workflowId);
      await releaseGpus(h.workflowId);
    }
  });

  it("go from a benchmark to the GPU queue, lease the host's GPU and ask Docker for exactly it", async () => {
    const benchId = `bench-gpu-${suffix}`;
    const spec: BenchSpec = { tasks: ['gpuProbe'], models: ['baseline'], seeds: 1, maxSteps: 5, concurrency: 1, noise: {}, gpus: { gpuProbe: 1 }, gpuTaskQueue: gpuQueue };
    handles.push(await t.client.workflow.start('benchmark', { taskQueue: `cpu-${suffix}`, workflowId: benchId, args: [spec] }));
    const childId = await waitFor(async () => {
      for await (const w of t.client.workflow.list({ query: `WorkflowType = 'agentRun' AND MlgymBenchId = '${benchId}'` })) return w.workflowId;
      return undefined;
    }, 'the child run');
    const child = t.client.workflow.getHandle(childId);
    handles.push(child);
    try {
      expect((await child.describe()).taskQueue).toBe(gpuQueue);
      expect(await waitFor(() => reservedGpus(child), 'reserveGpus')).toEqual([`fake-gpu-${suffix}`]);
      // Listed, then inspected: a container that went in between (a retried provision's) is looked for again.
      const { HostConfig } = await waitFor(async () => {
        const info = await findAgentContainer(childId);
        return info && docker().getContainer(info.Id).inspect().catch(() => undefined);
      }, 'the created container');
      expect(HostConfig.DeviceRequests).toEqual([{ Driver: 'nvidia', Count: 0, DeviceIDs: [`fake-gpu-${suffix}`], Capabilities: [['gpu']], Options: null }]);
    } finally {
      // The next test needs the host's one GPU: this run must not keep its lease.
      await t.client.workflow.getHandle(benchId).terminate('seen enough');
      await child.terminate('seen enough').catch(() => undefined);
      await removeRunResources(childId);
      await releaseGpus(childId);
    }
  });

  it('wait while the GPUs are leased to another run, and get them once it has ended', async () => {
    const first = runInput('gpuProbe', 'baseline', { gpus: 1, runId: `gpu-first-${suffix}` });
    const second = runInput('gpuProbe', 'baseline', { gpus: 1, runId: `gpu-second-${suffix}` });
    const a = await startRun(t.client, gpuQueue, first);
    handles.push(a);
    expect(await waitFor(() => reservedGpus(a), "the first run's reserveGpus")).toEqual([`fake-gpu-${suffix}`]);
    const b = await startRun(t.client, gpuQueue, second);
    handles.push(b);
    const failure = await waitFor(async () => {
      const pending = (await b.describe()).raw.pendingActivities?.[0];
      return pending?.activityType?.name === 'reserveGpus' && pending.lastFailure?.message ? pending.lastFailure.message : undefined;
    }, 'the second run to wait for the GPU');
    expect(failure).toBe("waiting for 1 GPU(s): 0 of this host's 1 are free");
    expect(await reservedGpus(b)).toBeUndefined();

    await a.terminate('make room');
    expect(await waitFor(() => reservedGpus(b), "the second run's reserveGpus")).toEqual([`fake-gpu-${suffix}`]);
    expect(leasedGpus(second.runId)).toEqual([`fake-gpu-${suffix}`]);
    expect(leasedGpus(first.runId)).toBeUndefined();
  });
});
