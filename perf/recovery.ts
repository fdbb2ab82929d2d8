import { ArtifactStore } from '../lib/artifacts/store.js';
import type { BenchEnv } from './env.js';
import { resultOf, startReplayRun } from './runs.js';
import { sleep } from './stats.js';
import { readHistory } from './timeline.js';
import { startBenchWorker } from './worker.js';

export interface RecoveryKill {
  /** Commands completed when the worker was killed, and what was running then. */
  atStep: number;
  inFlight: string;
  /** SIGKILL to the next command completed by the restarted worker. */
  recoveryMs: number;
  workerStartMs: number;
}

/** Wait until the run has stored `n` observations (completed commands). */
async function untilObservations(store: ArtifactStore, runId: string, n: number): Promise<number> {
  for (;;) {
    const done = (await store.list(runId, 'steps')).filter((f) => f.endsWith('.obs.json')).length;
    if (done >= n) return done;
    await sleep(50);
  }
}

/**
 * SIGKILL the worker at a few points of a run of one-second commands and restart it at once, as a
 * supervisor would; measure how long the run stalls.
 */
export async function measureRecovery(env: BenchEnv, heartbeatTimeoutS: number, kills: number): Promise<RecoveryKill[]> {
  const store = new ArtifactStore();
  let worker = await startBenchWorker(env);
  const handle = await startReplayRun(env, 'recovery', Array.from({ length: 6 + 6 * kills }, () => 'sleep 1'), { heartbeatTimeoutS });
  const points: { at: number; atStep: number; workerStartMs: number }[] = [];
  for (let k = 0; k < kills; k++) {
    const atStep = await untilObservations(store, handle.workflowId, 3 + 6 * k);
    await sleep(250 + 400 * k); // a different moment of the step each time
    const at = Date.now();
    await worker.kill();
    worker = await startBenchWorker(env);
    points.push({ at, atStep, workerStartMs: worker.startMs });
  }
  await resultOf(handle);
  await worker.kill();
  const { activities } = await readHistory(env.client, handle.workflowId);
  return points.map(({ at, atStep, workerStartMs }) => {
    const next = Math.min(...activities.filter((a) => a.type === 'toolExec' && a.ok && a.closed! > at).map((a) => a.closed!));
    const running = activities.find((a) => a.scheduled <= at && (a.closed === undefined || a.closed > at));
    return { atStep, inFlight: running?.type ?? 'workflow task', recoveryMs: next - at, workerStartMs };
  });
}
