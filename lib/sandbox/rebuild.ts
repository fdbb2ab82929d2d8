import type { ArtifactStore } from '../artifacts/store.js';
import type { LoadedTask } from '../config/load.js';
import { recordName, type ObservationRecord } from '../run/records.js';
import type { TurnResult } from '../run/types.js';
import { fillTaskData, fillWorkspace, volumeName } from '../sandbox/container.js';
import { runInSession } from '../sandbox/session.js';
import { restoreSnapshot } from '../sandbox/snapshot.js';
import { readManifest, snapshotFor } from '../snapshots/manifest.js';
import { snapshotStore } from '../snapshots/store.js';
import { prepareCommand } from '../tools/prepare.js';
import { findToolCommand } from '../tools/registry.js';
import { commandTimeoutS } from '../tools/timeouts.js';
import type { ForkOrigin, ReplayedCommand } from './records.js';

/** How long one session call waits for a re-run command before polling again. */
const POLL_S = 2;

/**
 * Make a fork's new, empty workspace the parent's workspace after step `atStep`: the parent's latest snapshot
 * at or before step atStep + 1 (or the task's fresh workspace when it has none), then the parent's recorded
 * commands since that snapshot run again in order, as the agent ran them. No model is asked: the commands are
 * the recorded ones. Validate, submit and exit change no file and host tools (literature, memory) run
 * outside the container, so only container commands are re-run.
 */
export async function forkWorkspace(
  store: ArtifactStore,
  containerId: string,
  forkId: string,
  task: LoadedTask,
  parentRunId: string,
  atStep: number,
): Promise<Omit<ForkOrigin, 'at'>> {
  const snapshots = snapshotStore(store);
  const choice = await snapshotFor(parentRunId, atStep + 1, snapshots);
  const manifest = choice.snapshot === null ? undefined : await readManifest(snapshots, parentRunId, choice.snapshot);
  if (manifest) {
    await fillTaskData(containerId, task);
    await restoreSnapshot(snapshots, containerId, manifest, volumeName(forkId));
  } else {
    await fillWorkspace(containerId, task);
  }
  const replayed: ReplayedCommand[] = [];
  for (const step of choice.replay) {
    const command = await containerCommand(store, parentRunId, step);
    if (command === undefined) continue;
    const recorded = await store.readJson<ObservationRecord>(parentRunId, recordName.observation(step));
    const timeoutS = commandTimeoutS(command, task);
    const key = `fork-replay-${step}`;
    let result = await runInSession(containerId, key, command, { timeoutS, waitS: POLL_S, capChars: 1000 });
    while (result.state === 'running') {
      result = await runInSession(containerId, key, '', { timeoutS, waitS: POLL_S, capChars: 1000 });
    }
    replayed.push({ step, command, exitCode: result.exit_code ?? null, recordedExitCode: recorded?.exitCode ?? null });
  }
  return { parentRunId, atStep, snapshot: choice.snapshot, replayed };
}

/** The command the parent's step ran in its container, or undefined for a step that ran none there. */
async function containerCommand(store: ArtifactStore, runId: string, step: number): Promise<string | undefined> {
  const turn = await store.readJson<TurnResult>(runId, recordName.turn(step));
  if (!turn) throw new Error(`run ${runId} has no recorded turn for step ${step}: its workspace after that step cannot be rebuilt`);
  if (turn.action.kind !== 'command') return undefined;
  const name = /^\s*(\S+)/.exec(turn.action.command)?.[1];
  if (name && findToolCommand(name)?.kind === 'host') return undefined;
  const prepared = prepareCommand(turn.action.command);
  return 'refusal' in prepared ? undefined : prepared.command;
}
