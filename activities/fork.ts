import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import { copyHistory, type InheritedSteps } from '../lib/fork/history.js';
import { forkRecordName, forkRefusal, type ForkChild, type ForkOrigin } from '../lib/fork/records.js';
import { recordName } from '../lib/run/records.js';
import type { ForkRef, ProvisionResult } from '../lib/run/types.js';
import { removeRunResources } from '../lib/sandbox/container.js';
import { rebuildWorkspace } from '../lib/sandbox/rebuild.js';
import { takeSnapshot } from '../lib/sandbox/snapshot.js';
import { snapshotStore } from '../lib/snapshots/store.js';
import { hostQueueOf } from '../lib/temporal/client.js';
import type { ActivityDeps } from './context.js';
import { withHeartbeat } from './heartbeat.js';
import { ensureRunContainer, type ProvisionInput, type WorkspaceFill } from './provision.js';

export interface ForkProvisionInput extends ProvisionInput {
  fork: ForkRef;
}

export interface ForkProvisionResult extends ProvisionResult {
  /** The parent's steps the fork starts with. */
  inherited: InheritedSteps;
}

/**
 * A fork's provisioning: its own container whose workspace is the parent's after step `atStep`
 * (lib/sandbox/rebuild.ts), the parent's steps 0..atStep as its own records (lib/fork/history.ts), a
 * snapshot of that workspace under the fork's id (so a lost container, and a fork of this fork, restore
 * it exactly), and the link both ways (`fork.json` here, `forks/<id>.json` in the parent's folder).
 * `fork.json` is written last: an attempt that died before it leaves a half-made workspace, which the
 * next attempt removes and makes again.
 */
export function makeForkProvision({ store }: ActivityDeps) {
  return async function forkProvision(input: ForkProvisionInput): Promise<ForkProvisionResult> {
    const { runId, model, fork } = input;
    const refusal = await forkRefusal(store, fork.parentRunId, fork.atStep);
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'ConfigError');
    return withHeartbeat(async () => {
      const inherited = await copyHistory(store, fork.parentRunId, runId, fork.atStep);
      const made = await store.readJson<ForkOrigin>(runId, forkRecordName.origin);
      if (!made) await removeRunResources(runId);
      const fill: WorkspaceFill = async (_store, _runId, containerId, task) => {
        const rebuilt = await rebuildWorkspace(store, containerId, runId, task, fork.parentRunId, fork.atStep + 1);
        const origin: ForkOrigin = { parentRunId: fork.parentRunId, atStep: fork.atStep, ...rebuilt, at: new Date().toISOString() };
        await takeSnapshot(snapshotStore(store), runId, fork.atStep + 1);
        await store.writeJson(fork.parentRunId, forkRecordName.child(runId), { forkId: runId, atStep: fork.atStep, model, at: origin.at } satisfies ForkChild);
        await store.writeJson(runId, forkRecordName.origin, origin);
        const from = origin.snapshot === null ? "the task's fresh workspace" : `its snapshot of step ${origin.snapshot}`;
        return `forked ${fork.parentRunId} after step ${fork.atStep}: ${from} and ${origin.replayed.length} recorded command(s) re-run in`;
      };
      const provisioned = await ensureRunContainer(store, input, made ? undefined : fill);
      const result = { ...provisioned, hostQueue: hostQueueOf(activityInfo().taskQueue) };
      await store.writeJson(runId, recordName.provision, result);
      return { ...result, inherited };
    });
  };
}
