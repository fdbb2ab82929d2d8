import { activityInfo } from '@temporalio/activity';
import { recordName, type MigrationRecord } from '../lib/run/records.js';
import type { ProvisionResult } from '../lib/run/types.js';
import { removeRunResources } from '../lib/sandbox/container.js';
import { rebuildWorkspace } from '../lib/sandbox/rebuild.js';
import { hostQueueOf } from '../lib/temporal/client.js';
import type { ActivityDeps } from './context.js';
import { withHeartbeat } from './heartbeat.js';
import { ensureRunContainer, type ProvisionInput, type WorkspaceFill } from './provision.js';

export interface MigrateInput extends ProvisionInput {
  /** Steps the run has done: the new workspace is the one after them. */
  step: number;
  /** The lost host's task queue. */
  from: string;
  /** Which move of the run this is (0 for its first): names its record. */
  index: number;
}

/**
 * Move a run off a host that stopped serving its queue (docs/deploy.md, "When a host is lost"): on this host, a new
 * container whose workspace is rebuilt from the run's latest snapshot in the shared artifact store plus its recorded
 * commands since then (lib/sandbox/rebuild.ts; no model is asked), and this host's queue for the run's container
 * activities from now on. The record is written last: an attempt that died before it leaves a half-made workspace,
 * which the next attempt removes and makes again.
 */
export function makeMigrate({ store }: ActivityDeps) {
  return async function migrate(input: MigrateInput): Promise<ProvisionResult & { hostQueue: string }> {
    const { runId, step, from, index } = input;
    const to = hostQueueOf(activityInfo().taskQueue);
    return withHeartbeat(async () => {
      const done = await store.readJson<MigrationRecord>(runId, recordName.migration(index));
      // A container of the run on this host is stale (the run left this host before) or half-made by an earlier attempt.
      if (!done) await removeRunResources(runId);
      const fill: WorkspaceFill = async (_store, _runId, containerId, task) => {
        const rebuilt = await rebuildWorkspace(store, containerId, runId, task, runId, step);
        await store.writeJson(runId, recordName.migration(index), { index, step, from, to, at: new Date().toISOString(), ...rebuilt } satisfies MigrationRecord);
        const base = rebuilt.snapshot === null ? "the task's fresh workspace" : `the snapshot of step ${rebuilt.snapshot}`;
        return `moved from ${from} (silent) after ${step} step(s): ${base} and ${rebuilt.replayed.length} recorded command(s) re-run in`;
      };
      const result = { ...(await ensureRunContainer(store, input, fill)), hostQueue: to };
      await store.writeJson(runId, recordName.provision, result);
      return result;
    });
  };
}
