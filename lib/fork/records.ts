import type { ArtifactStore } from '../artifacts/store.js';
import { recordName } from '../run/records.js';
import type { TurnResult } from '../run/types.js';
import type { RebuiltWorkspace } from '../sandbox/rebuild.js';

/** Names of the records that link a fork to its parent (docs/fork.md). */
export const forkRecordName = {
  /** In the fork's folder: where it comes from and how its workspace was made. */
  origin: 'fork.json',
  /** In the parent's folder, one per fork: the parent's side of the link. */
  child: (forkId: string) => `forks/${forkId}.json`,
} as const;

/** A fork's `fork.json`, written once its workspace and history are in place: the parent's snapshot restored and the parent's commands re-run. */
export interface ForkOrigin extends RebuiltWorkspace {
  parentRunId: string;
  atStep: number;
  at: string;
}

/** The parent's side of the link: in `forks/<forkId>.json` of the parent's folder. */
export interface ForkChild {
  forkId: string;
  atStep: number;
  model: string;
  at: string;
}

/**
 * Why a run cannot be forked after `atStep` (undefined when it can): step `atStep` must be finished,
 * its turn recorded and, for an action with an effect, its observation too.
 */
export async function forkRefusal(store: ArtifactStore, parentRunId: string, atStep: number): Promise<string | undefined> {
  if (!Number.isInteger(atStep) || atStep < 0) return `the step to fork at must be an integer >= 0, got ${atStep}`;
  if (!(await store.hasRun(parentRunId))) return `no records of run "${parentRunId}" in ${store.location}`;
  const turn = await store.readJson<TurnResult>(parentRunId, recordName.turn(atStep));
  const observed = turn && (turn.action.kind === 'exit' || (await store.readJson(parentRunId, recordName.observation(atStep))) !== undefined);
  if (!observed) {
    const steps = (await store.list(parentRunId, 'steps')).filter((f) => f.endsWith('.obs.json')).length;
    return `run "${parentRunId}" has not finished step ${atStep} (${steps} step(s) recorded): fork at an earlier step or wait`;
  }
  return undefined;
}
