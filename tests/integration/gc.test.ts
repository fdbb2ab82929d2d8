import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { docker, labels } from '../../lib/sandbox/docker.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';
import { mlgym } from '../helpers/cli.js';

describe('mlgym gc', () => {
  const t = useTestTemporal();

  it('lists and removes the containers and volumes of unknown and finished runs', async () => {
    const tag = `gctest${randomBytes(3).toString('hex')}`;
    const orphan = `${tag}-orphan`;
    await docker().createVolume({ Name: `mlgym-ws-${orphan}`, Labels: { [labels.run]: orphan } });

    // A finished run kept with --keep is an orphan too, reported with its state.
    const input = runInput('prisonersDilemma', 'baseline', { keep: true, runId: `${tag}-kept` });
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
});
