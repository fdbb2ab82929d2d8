// The per-run records of a benchmark in the artifact store: the workflow keeps none of them in its state,
// so a benchmark of any size continues as new with a small input. Used by activities only.
import { checkKey, type ObjectStore } from '../artifacts/objectStore.js';
import { isId, toId } from '../run/ids.js';
import { benchJobs, benchRunId } from './jobs.js';
import type { BenchRun, BenchSpec } from './types.js';

/** Records read at once when a benchmark is summarised (object stores answer many small reads best in parallel). */
const READS_IN_FLIGHT = 16;

/** A scheduled benchmark's id holds the time it was due (with ":"), so its folder is the id made into one. */
export function benchRecordKey(benchId: string, runId: string): string {
  if (!isId(runId)) throw new Error(`invalid run id "${runId}"`);
  return checkKey(`benches/${toId(benchId)}/runs/${runId}.json`);
}

/** Store how one run of the benchmark ended (again: a later execution may find it finished and reuse it). */
export async function writeBenchRecord(objects: ObjectStore, benchId: string, run: BenchRun): Promise<void> {
  await objects.put(benchRecordKey(benchId, run.runId), JSON.stringify(run));
}

/** The records of every run of the spec, in benchJobs order; a run without one is an error naming it. */
export async function readBenchRecords(objects: ObjectStore, benchId: string, spec: BenchSpec): Promise<BenchRun[]> {
  const runIds = benchJobs(spec).map((job) => benchRunId(benchId, job));
  const runs: BenchRun[] = [];
  for (let i = 0; i < runIds.length; i += READS_IN_FLIGHT) {
    const batch = runIds.slice(i, i + READS_IN_FLIGHT);
    runs.push(...(await Promise.all(batch.map((runId) => readOne(objects, benchId, runId)))));
  }
  return runs;
}

async function readOne(objects: ObjectStore, benchId: string, runId: string): Promise<BenchRun> {
  const key = benchRecordKey(benchId, runId);
  const data = await objects.get(key);
  if (data === undefined) throw new Error(`benchmark ${benchId} has no record of its run ${runId} (${objects.location}/${key})`);
  return JSON.parse(data.toString('utf8')) as BenchRun;
}
