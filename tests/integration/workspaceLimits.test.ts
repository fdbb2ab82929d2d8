import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName } from '../../lib/run/records.js';
import type { ProvisionResult, ToolResult } from '../../lib/run/types.js';
import { ensureAgentContainer, fillWorkspace, removeRunResources, taskDataBytes, volumeName } from '../../lib/sandbox/container.js';
import { docker } from '../../lib/sandbox/docker.js';
import { ensureTaskImage } from '../../lib/sandbox/images.js';
import { devicesOf, diskImagePath, imageBytes } from '../../lib/sandbox/quota.js';
import { runInSession } from '../../lib/sandbox/session.js';
import { commandTimeoutS } from '../../lib/tools/timeouts.js';
import { fixtureTask } from '../helpers/sandbox.js';

const store = new ArtifactStore();
const activities = createActivities({ store });
const runs: string[] = [];
const newRunId = (what: string) => {
  const id = `test-${what}-${randomBytes(4).toString('hex')}`;
  runs.push(id);
  return id;
};

afterAll(async () => {
  for (const runId of runs) await removeRunResources(runId);
});

describe('the disk quota', () => {
  const runId = newRunId('quota');
  const task = { ...fixtureTask('sandboxProbe'), resources: { ...fixtureTask('sandboxProbe').resources, disk_gb: 0.25 } };
  let containerId: string;
  let n = 0;
  const run = async (command: string) => runInSession(containerId, `q${n++}`, command, { timeoutS: 120, waitS: 125 });

  beforeAll(async () => {
    const image = await ensureTaskImage(task, () => {});
    const created = await ensureAgentContainer({ runId, image, task, model: 'test' });
    expect(created.freshVolume).toBe(true);
    containerId = created.id;
    await fillWorkspace(containerId, task);
  });

  it('stops writes past disk_gb with "No space left on device", says so, and keeps the host out of it', async () => {
    const full = await run('dd if=/dev/zero of=big bs=1M count=600 2>&1; echo "dd exited $?"');
    expect(full.output).toContain('No space left on device');
    expect(full.output).toMatch(/dd exited [1-9]/);
    expect(full.output).toMatch(/DISK FULL: the workspace is at its disk quota of 0\.\d GB \(\d+ MB left\); writes beyond it fail with "No space left on device"/);
    // The host holds at most the image's size for this workspace.
    const image = diskImagePath(runId);
    const size = imageBytes(0.25, taskDataBytes(task));
    expect(statSync(image).size).toBe(size);
    expect(statSync(image).blocks * 512).toBeLessThanOrEqual(size);
    // Deleting gives the space back; a later command is not told about the quota.
    const freed = await run('rm big && echo ok > kept.txt && df --output=avail -B1M . | tail -1');
    expect(freed.output).not.toContain('DISK FULL');
    expect(Number(freed.output!.trim().split('\n').at(-1))).toBeGreaterThan(200);
  });

  it('re-attaches the same image when the container is lost, and when its volume is lost too', async () => {
    const image = diskImagePath(runId);
    const [device] = await devicesOf(image);
    expect(device).toMatch(/^\/dev\/loop\d+$/);
    const spec = { runId, image: await ensureTaskImage(task, () => {}), task, model: 'test' };

    await docker().getContainer(containerId).remove({ force: true });
    const again = await ensureAgentContainer(spec);
    expect(again.freshVolume).toBe(false);
    containerId = again.id;
    expect((await run('cat kept.txt')).output!.trim()).toBe('ok');
    expect(await devicesOf(image)).toEqual([device]);

    await docker().getContainer(containerId).remove({ force: true });
    await docker().getVolume(volumeName(runId)).remove();
    const third = await ensureAgentContainer(spec);
    expect(third.freshVolume).toBe(false);
    containerId = third.id;
    expect((await run('cat kept.txt')).output!.trim()).toBe('ok');
    expect(await devicesOf(image)).toHaveLength(1);
  });

  it('is released by clean-up: no container, volume, loop device or image file left', async () => {
    const image = diskImagePath(runId);
    await removeRunResources(runId);
    expect(await devicesOf(image)).toEqual([]);
    expect(existsSync(image)).toBe(false);
    expect((await docker().listVolumes({ filters: { name: [volumeName(runId)] } })).Volumes ?? []).toHaveLength(0);
  });
});

describe('runaway commands', () => {
  const runId = newRunId('runaway');
  let step = 0;
  const input = { runId, taskId: 'sandboxProbe', model: 'test' };

  /** One step through the toolExec activity: the timeout it picks, the observation the agent gets. */
  async function act(command: string): Promise<{ result: ToolResult; observation: string }> {
    const s = step++;
    const result = (await new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run(activities.toolExec, { ...input, step: s, command })) as ToolResult;
    const record = await store.readJson<{ observation: string }>(runId, recordName.observation(s));
    return { result, observation: record!.observation };
  }

  beforeAll(async () => {
    (await new MockActivityEnvironment().run(activities.provision, input)) as ProvisionResult;
  });

  it('a fork bomb in a shell wrapper gets the short timeout, and hitting the process limit is reported', async () => {
    const task = fixtureTask('sandboxProbe');
    // The bomb's own shell returns at once; `sleep` keeps the command going while the bomb forks.
    const bomb = 'bash -c ":(){ :|:& };:; sleep 2"';
    expect(commandTimeoutS(bomb, task)).toBe(task.command_timeout);
    const { result, observation } = await act(bomb);
    expect(result.timedOut).toBe(false);
    expect(observation).toContain(`PROCESS LIMIT: the command hit the process limit of ${task.resources.pids} and was stopped`);
    expect((await act('echo still-here')).observation.trim()).toBe('still-here');
  });

  it('a command that keeps forking at the process limit is stopped, with all its processes', async () => {
    const { result, observation } = await act(`python3 -c "
import os
while True:
    try:
        os.fork()
    except OSError:
        pass" fork-forever`);
    expect(result.timedOut).toBe(false);
    expect(observation).toContain('PROCESS LIMIT: the command hit the process limit of 64 and was stopped');
    const after = await act('ps -eo args= | grep -c "[f]ork-forever" || true');
    expect(after.observation.trim()).toBe('0');
  });

  it('a command killed by the OOM killer is told so, with the limit', async () => {
    const { result, observation } = await act('python3 -c "x = bytearray(1024 * 1024 * 1024); print(len(x))"');
    expect(result.exitCode).toBe(137);
    expect(observation).toContain('OUT OF MEMORY: the command was killed by the out-of-memory killer at 256 MB');
    expect(observation).not.toContain('1073741824');
    const ok = await act('python3 -c "x = bytearray(16 * 1024 * 1024); print(len(x))"');
    expect(ok.observation.trim()).toBe('16777216');
  });
});
