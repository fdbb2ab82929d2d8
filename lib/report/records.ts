import { readCalls, type CallRecord } from '../agent/ledger.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { MlgymResults } from '../interop/traj.js';
import { forkRecordName, type ForkChild, type ForkOrigin } from '../fork/records.js';
import type { RunRescore } from '../rescore/types.js';
import { isId } from '../run/ids.js';
import { readAttempts, readTrajectory, recordName, type StepView } from '../run/records.js';
import { runBuilds } from '../temporal/deployment.js';
import type { Attempt, ProvisionResult, RunResult } from '../run/types.js';

/** Everything the artifact store holds about one run (the records the activities write). */
export interface RunRecords {
  runId: string;
  /** Absent while the run is going. */
  result?: RunResult;
  provision?: ProvisionResult;
  mlgymResults?: MlgymResults;
  /** Every step with a turn or an observation; a step without a turn (action "") is the harness's autosubmit. */
  steps: StepView[];
  attempts: Attempt[];
  /** The model calls of an LLM agent (none for the built-in agents). */
  calls: CallRecord[];
  /** The builds whose workers ran its activities so far (the result has them once it is scored). */
  builds?: string[];
  /** A fork: where it comes from (docs/fork.md). */
  fork?: ForkOrigin;
  /** The run's forks. */
  forks?: ForkChild[];
  /** Its workspaces graded again by later evaluations (`mlgym rescore`). */
  rescores?: RunRescore[];
}

export async function hasRun(store: ArtifactStore, runId: string): Promise<boolean> {
  return isId(runId) && (await store.hasRun(runId));
}

export async function readRunRecords(store: ArtifactStore, runId: string): Promise<RunRecords> {
  const [result, provision, mlgymResults, steps, attempts, calls, builds, fork, forks, rescores] = await Promise.all([
    store.readJson<RunResult>(runId, recordName.result),
    store.readJson<ProvisionResult>(runId, recordName.provision),
    store.readJson<MlgymResults>(runId, recordName.mlgymResults),
    readTrajectory(store, runId),
    readAttempts(store, runId),
    readCalls(store, runId),
    runBuilds(store, runId),
    store.readJson<ForkOrigin>(runId, forkRecordName.origin),
    readAll<ForkChild>(store, runId, 'forks'),
    readAll<RunRescore>(store, runId, 'rescores'),
  ]);
  return { runId, result, provision, mlgymResults, steps, attempts, calls, builds, fork, forks, rescores };
}

/** Every JSON record in one of a run's folders. */
async function readAll<T>(store: ArtifactStore, runId: string, dir: string): Promise<T[]> {
  const all = await Promise.all((await store.list(runId, dir)).map((name) => store.readJson<T>(runId, `${dir}/${name}`)));
  return all.filter((r): r is Awaited<T> & T => r !== undefined);
}
