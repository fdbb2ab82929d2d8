import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../lib/artifacts/objectStore.js';
import { benchJobs, benchRunId, failedRun } from '../../lib/bench/jobs.js';
import { benchRecordKey, readBenchRecords, writeBenchRecord } from '../../lib/bench/records.js';
import type { BenchRun, BenchSpec } from '../../lib/bench/types.js';

const dir = mkdtempSync(join(tmpdir(), 'mlgym-bench-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const objects = new LocalObjectStore(dir);

const spec: BenchSpec = { tasks: ['taskA', 'taskB'], models: ['m1'], seeds: 20, maxSteps: 2, concurrency: 4, noise: {} };

function completed(benchId: string, seed: number, task: string): BenchRun {
  const job = { task, model: 'm1', seed };
  return { ...job, runId: benchRunId(benchId, job), reused: false, status: 'completed', exitStatus: 'submitted', attempts: [{ kind: 'submit', metrics: { Score: seed } }] };
}

describe('benchmark run records', () => {
  it('reads every run of the spec back in job order, whatever order they were written in', async () => {
    const benchId = 'bench-records';
    const runs = benchJobs(spec).map((job) => (job.seed === 3 ? failedRun(job, benchRunId(benchId, job), 'boom') : completed(benchId, job.seed, job.task)));
    await Promise.all([...runs].reverse().map((run) => writeBenchRecord(objects, benchId, run)));
    expect(await readBenchRecords(objects, benchId, spec)).toEqual(runs);
  });

  it('names a missing record', async () => {
    const benchId = 'bench-records-missing';
    const runs = benchJobs(spec).map((job) => completed(benchId, job.seed, job.task));
    for (const run of runs.filter((r) => r.seed !== 17 || r.task !== 'taskB')) await writeBenchRecord(objects, benchId, run);
    await expect(readBenchRecords(objects, benchId, spec)).rejects.toThrow(`benchmark ${benchId} has no record of its run ${benchId}-taskB-m1-s17`);
  });

  it("keeps a scheduled benchmark's records (its id holds ':') in a folder named by the id made into one", () => {
    expect(benchRecordKey('bench-nightly-2026-12-05T10:00:00Z', 'bench-nightly-2026-12-05T10_00_00Z-taskA-m1-s0')).toBe('benches/bench-nightly-2026-12-05T10_00_00Z/runs/bench-nightly-2026-12-05T10_00_00Z-taskA-m1-s0.json');
    expect(() => benchRecordKey('bench', '../escape')).toThrow('invalid run id');
    expect(() => benchRecordKey('..', 'run')).toThrow('invalid artifact key');
  });
});
