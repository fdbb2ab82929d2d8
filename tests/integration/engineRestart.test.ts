import { execSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName, type ObservationRecord } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { docker } from '../../lib/sandbox/docker.js';
import { statusQuery } from '../../workflows/messages.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stop the Docker engine and start it again the way scripts/setup.sh does. Needs root and our own dockerd. */
async function restartEngine(): Promise<void> {
  execSync('pkill -TERM -x dockerd');
  for (let i = 0; i < 100 && execSync('pgrep -x dockerd || true').toString().trim(); i++) await sleep(200);
  const log = openSync(join(process.env.MLGYM_HOME!, 'dockerd-restart.log'), 'a');
  spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
  for (let i = 0; i < 150; i++) {
    if (await docker().ping().then(() => true, () => false)) return;
    await sleep(200);
  }
  throw new Error('dockerd did not come back');
}

// Restarting the engine stops every container on the machine, so this runs only when asked:
// npx vitest run --project engine (never part of npm test: it stops every container on the machine)
describe('a Docker engine restart in the middle of a run', () => {
  const t = useTestTemporal();

  it('costs the command in flight, not the run or its workspace', async () => {
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-engine-')), 'steps.yaml');
    const steps = ['echo kept > notes.txt', ...Array.from({ length: 8 }, (_, i) => `sleep 1; echo ${i}`), 'cat notes.txt'];
    writeFileSync(replay, JSON.stringify(steps));
    const input = runInput('prisonersDilemma', `replay:${replay}`, { heartbeatTimeoutS: 3 });
    const worker = await t.worker('engine');
    const handle = await startRun(t.client, 'engine', input);
    const result = (await worker.runUntil(async () => {
      while ((await handle.query(statusQuery)).step < 3) await sleep(200);
      await restartEngine();
      return handle.result();
    })) as RunResult;

    expect(result.exitStatus).toBe('submitted');
    expect(result.submission?.metrics?.Score).toBeGreaterThan(0);
    const last = await new ArtifactStore().readJson<ObservationRecord>(input.runId, recordName.observation(steps.length - 1));
    expect(last!.observation.trim()).toBe('kept');
  });
});
