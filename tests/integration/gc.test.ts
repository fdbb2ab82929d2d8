import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { removeRunResources, volumeName } from '../../lib/sandbox/container.js';
import { docker, labels } from '../../lib/sandbox/docker.js';
import { BASE_IMAGE } from '../../lib/sandbox/images.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';
import { mlgym } from '../helpers/cli.js';
import { statusQuery } from '../../workflows/messages.js';

describe('mlgym gc', () => {
  const t = useTestTemporal();

  it('lists and removes the containers and volumes of unknown and finished runs', async () => {
    const tag = `gctest${randomBytes(3).toString('hex')}`;
    const orphan = `${tag}-orphan`;
    await docker().createVolume({ Name: `mlgym-ws-${orphan}`, Labels: { [labels.run]: orphan } });

    // A finished run kept with --keep is an orphan too, reported with its state.
    const input = runInput('quickDilemma', 'baseline', { keep: true, runId: `${tag}-kept` });
    const worker = await t.worker('gc');
    await worker.runUntil(startRun(t.client, 'gc', input).then((h) => h.result()));

    const dry = await mlgym({}, 'gc', '--dry-run', '--match', tag, '--json');
    expect(dry.status).toBe(0);
    const listed = JSON.parse(dry.stdout).orphans;
    expect(listed).toEqual([
      { runId: `${tag}-kept`, state: 'COMPLETED' },
      { runId: orphan, state: 'UNKNOWN' },
    ]);
    expect((await docker().listVolumes({ filters: { label: [`${labels.run}=${orphan}`] } })).Volumes).toHaveLength(1);

    const real = await mlgym({}, 'gc', '--match', tag, '--json');
    expect(JSON.parse(real.stdout).removed).toHaveLength(2);
    expect((await docker().listVolumes({ filters: { label: [`${labels.run}=${orphan}`] } })).Volumes).toHaveLength(0);
    expect(await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${tag}-kept`] } })).toHaveLength(0);
  });

  it("removes a run's containers and then its volume, and does not take a volume from a container that is not the run's", async () => {
    const runId = `gcvolume${randomBytes(3).toString('hex')}`;
    const volume = volumeName(runId);
    await docker().createVolume({ Name: volume, Labels: { [labels.run]: runId } });
    const holder = (labelled: boolean) => docker().createContainer({
      Image: BASE_IMAGE,
      Cmd: ['sleep', 'infinity'],
      Labels: labelled ? { [labels.run]: runId } : {},
      HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/w' }] },
    });
    const foreign = await holder(false);
    try {
      await holder(true);
      await expect(removeRunResources(runId)).rejects.toThrow(new RegExp(`cannot remove ${volume}: still in use after the run's containers were removed 3 times`));
      expect(await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${runId}`] } })).toHaveLength(0);
      expect((await foreign.inspect()).Id).toBe(foreign.id);
    } finally {
      await foreign.remove({ force: true });
    }
    await removeRunResources(runId);
    expect((await docker().listVolumes({ filters: { name: [volume] } })).Volumes ?? []).toHaveLength(0);
  });

  it("keeps a running run's container on its host, and removes it on a host the run moved away from", async () => {
    const tag = `gcmove${randomBytes(3).toString('hex')}`;
    // An external run waits for its client: running, its container on this host (queue gc-moved@<this host>).
    const input = runInput('quickDilemma', 'external', { runId: `${tag}-live` });
    const worker = await t.worker('gc-moved');
    await worker.runUntil(async () => {
      const handle = await startRun(t.client, 'gc-moved', input);
      // Placed: the workflow has recorded the host holding the container (its container exists before that).
      const deadline = Date.now() + 120_000;
      while (!(await handle.query(statusQuery)).hostQueue) {
        if (Date.now() > deadline) throw new Error('the run was not provisioned');
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await docker().listContainers({ filters: { label: [`${labels.run}=${input.runId}`, `${labels.role}=agent`] } })).toHaveLength(1);
      const here = await mlgym({}, 'gc', '--dry-run', '--match', tag, '--json');
      expect(JSON.parse(here.stdout).orphans).toEqual([]);
      // Seen from another host (its own MLGYM_HOST_ID), the run lives elsewhere: a stale copy there is removed.
      const elsewhere = await mlgym({ MLGYM_HOST_ID: 'another-host' }, 'gc', '--match', tag, '--json');
      expect(JSON.parse(elsewhere.stdout).removed).toEqual([{ runId: input.runId, state: 'MOVED' }]);
      expect(await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${input.runId}`] } })).toHaveLength(0);
      await handle.terminate('test over');
    });
  });
});
