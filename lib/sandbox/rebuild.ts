import type { ArtifactStore } from '../artifacts/store.js';
import type { LoadedTask } from '../config/load.js';
import { recordName, type ObservationRecord } from '../run/records.js';
import type { TurnResult } from '../run/types.js';
import { readManifest, snapshotFor } from '../snapshots/manifest.js';
import { snapshotStore } from '../snapshots/store.js';
import { prepareCommand } from '../tools/prepare.js';
import { findToolCommand } from '../tools/registry.js';
import { commandTimeoutS } from '../tools/timeouts.js';
import { fillTaskData, fillWorkspace, volumeName } from './container.js';
import { endStrayProcesses, runInSession } from './session.js';
import { restoreSnapshot } from './snapshot.js';

/** How long one session call waits for a re-run command before polling again. */
const POLL_S = 2;

/** A recorded command run again in a rebuilt workspace (the steps after the snapshot restored). */
export interface ReplayedCommand {
  step: number;
  command: string;
  exitCode: number | null;
  /** What the recorded run of it returned: a difference means the command is not deterministic. */
  recordedExitCode: number | null;
}

export interface RebuiltWorkspace {
  /** The snapshot restored (null: the task's fresh workspace) before the recorded commands ran again. */
  snapshot: number | null;
  replayed: ReplayedCommand[];
}

/**
 * Make a new, empty workspace (the volume of run `volumeRunId`) the workspace of run `sourceRunId` after its
 * first `steps` steps: its latest snapshot at or before that step (or the task's fresh workspace when it has
 * none), then its recorded commands since that snapshot run again in order, as the agent ran them. No model is
 * asked: the commands are the recorded ones. Validate, submit and exit change no file and host tools
 * (literature, memory) run outside the container, so only container commands are re-run. Used by a fork (the
 * parent's workspace in the fork's volume) and by a run that moves off a lost host (its own, on the new host).
 */
export async function rebuildWorkspace(
  store: ArtifactStore,
  containerId: string,
  volumeRunId: string,
  task: LoadedTask,
  sourceRunId: string,
  steps: number,
): Promise<RebuiltWorkspace> {
  const snapshots = snapshotStore(store);
  const choice = await snapshotFor(sourceRunId, steps, snapshots);
  const manifest = choice.snapshot === null ? undefined : await readManifest(snapshots, sourceRunId, choice.snapshot);
  if (manifest) {
    await fillTaskData(containerId, task);
    await restoreSnapshot(snapshots, containerId, manifest, volumeName(volumeRunId));
  } else {
    await fillWorkspace(containerId, task);
  }
  const replayed: ReplayedCommand[] = [];
  for (const step of choice.replay) {
    const command = await containerCommand(store, sourceRunId, step);
    if (command === undefined) continue;
    const recorded = await store.readJson<ObservationRecord>(sourceRunId, recordName.observation(step));
    const timeoutS = commandTimeoutS(command, task);
    const key = `replay-${step}`;
    let result = await runInSession(containerId, key, command, { timeoutS, waitS: POLL_S, capChars: 1000 });
    while (result.state === 'running') {
      result = await runInSession(containerId, key, '', { timeoutS, waitS: POLL_S, capChars: 1000 });
    }
    await endStrayProcesses(containerId);
    replayed.push({ step, command, exitCode: result.exit_code ?? null, recordedExitCode: recorded?.exitCode ?? null });
  }
  return { snapshot: choice.snapshot, replayed };
}

/** The command the run's step ran in its container, or undefined for a step that ran none there. */
async function containerCommand(store: ArtifactStore, runId: string, step: number): Promise<string | undefined> {
  const turn = await store.readJson<TurnResult>(runId, recordName.turn(step));
  if (!turn) throw new Error(`run ${runId} has no recorded turn for step ${step}: its workspace after that step cannot be rebuilt`);
  if (turn.action.kind !== 'command') return undefined;
  const name = /^\s*(\S+)/.exec(turn.action.command)?.[1];
  if (name && findToolCommand(name)?.kind === 'host') return undefined;
  const prepared = prepareCommand(turn.action.command);
  return 'refusal' in prepared ? undefined : prepared.command;
}
