import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { readAttempts, readTrajectory, recordName } from '../../lib/run/records.js';
import type { ProvisionResult, RunResult } from '../../lib/run/types.js';
import { removeRunResources } from '../../lib/sandbox/container.js';
import { runInput, startRun } from '../helpers/runs.js';
import { s3Env, testS3Store } from '../helpers/s3.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

describe('a run whose artifact store is S3-compatible storage (MLGYM_ARTIFACTS=s3://bucket/prefix)', () => {
  const t = useTestTemporal();
  const suffix = randomBytes(3).toString('hex');
  let worker: ChildProcess | undefined;
  const runIds: string[] = [];

  afterAll(async () => {
    if (worker) await killHard(worker);
    for (const id of runIds) await removeRunResources(id);
  });

  it('keeps every record in the bucket (steps, attempts, results, log) and writes nothing to the local artifacts folder', async () => {
    const bucket = `s3-run-${suffix}`;
    const objects = await testS3Store(bucket, 'team/runs');
    const home = mkdtempSync(join(tmpdir(), 'mlgym-s3-worker-'));
    const queue = `s3-run-${suffix}`;
    worker = await startWorkerProcess({ TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!, MLGYM_HOME: home, MLGYM_TASK_QUEUE: queue, ...s3Env(bucket, 'team/runs') });

    const input = runInput('quickDilemma', 'baseline');
    runIds.push(input.runId);
    const result = (await (await startRun(t.client, queue, input)).result()) as RunResult;
    expect(result.exitStatus).toBe('submitted');

    const store = new ArtifactStore(objects);
    const keys = await objects.list(`runs/${input.runId}/`);
    const names = keys.map((k) => k.slice(`runs/${input.runId}/`.length));
    expect(names).toEqual(expect.arrayContaining([recordName.provision, recordName.result, recordName.mlgymResults, recordName.turn(0), recordName.observation(0), recordName.attempt(1), recordName.attempt(2)]));
    expect(names.some((n) => n.startsWith('log/'))).toBe(true);
    expect((await readTrajectory(store, input.runId)).map((s) => s.action)).toEqual(['python3 -c "import strategy"', 'validate', 'submit']);
    expect((await readAttempts(store, input.runId)).map((a) => a.kind)).toEqual(['validate', 'submit']);
    expect(await store.readJson<RunResult>(input.runId, recordName.result)).toEqual(result);
    expect((await store.readJson<ProvisionResult>(input.runId, recordName.provision))?.image).toMatch(/^mlgym-env:/);
    expect(await store.readLog(input.runId)).toMatch(/provisioned container .*\n(.|\n)*finished: submitted/);

    // Nothing local: neither the worker's MLGYM_HOME nor the suite's has an artifacts folder for the run.
    expect(existsSync(join(home, 'artifacts')) ? readdirSync(join(home, 'artifacts'), { recursive: true }) : []).toEqual([]);
    expect(existsSync(join(process.env.MLGYM_HOME!, 'artifacts', 'runs', input.runId))).toBe(false);
  });
});
