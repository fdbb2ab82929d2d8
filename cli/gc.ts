import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { docker, labels } from '../lib/sandbox/docker.js';
import { removeRunResources } from '../lib/sandbox/container.js';
import { reclaimOrphanDevices, runsWithDisks } from '../lib/sandbox/quota.js';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { sweepSnapshots, type SweepResult } from '../lib/snapshots/retention.js';
import { snapshotStore } from '../lib/snapshots/store.js';
import type { RunStatus } from '../lib/run/types.js';
import { hostId } from '../lib/temporal/client.js';
import { statusQuery } from '../workflows/messages.js';
import { connect } from './connect.js';
import { printJson, say } from './output.js';
import { QUERY_DEADLINE_MS } from './runs.js';

/** Run ids that still hold a container, a workspace volume or a quota disk (loop device, image file). */
async function runsWithResources(): Promise<string[]> {
  const containers = await docker().listContainers({ all: true, filters: { label: [labels.run] } });
  const { Volumes } = await docker().listVolumes({ filters: { label: [labels.run] } });
  const ids = [...containers.map((c) => c.Labels[labels.run]), ...(Volumes ?? []).map((v) => v.Labels?.[labels.run]), ...(await runsWithDisks())];
  return [...new Set(ids.filter((id): id is string => Boolean(id)))].sort();
}

/** The run's workflow status; a running run that moved to another host (docs/deploy.md) is MOVED here. */
async function runState(client: Client, runId: string): Promise<string> {
  try {
    const handle = client.workflow.getHandle(runId);
    const state = (await handle.describe()).status.name;
    if (state !== 'RUNNING') return state;
    // Unanswered (no worker right now): kept, as a running run.
    const status = (await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery)).catch(() => undefined)) as RunStatus | undefined;
    const host = status?.hostQueue?.split('@').pop();
    return host && host !== hostId() ? 'MOVED' : state;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'UNKNOWN';
    throw err;
  }
}

/**
 * `mlgym gc`: remove containers, volumes and quota disks of runs that are finished, unknown to the server or
 * moved to another host; without --match, also sweep snapshot chunks that no manifest names (lib/snapshots/retention.ts).
 */
export async function gcCommand(opts: { dryRun?: boolean; match?: string; json?: boolean }): Promise<void> {
  const { client } = await connect();
  try {
    const orphans: { runId: string; state: string }[] = [];
    for (const runId of await runsWithResources()) {
      if (opts.match && !runId.includes(opts.match)) continue;
      const state = await runState(client, runId);
      if (state !== 'RUNNING') orphans.push({ runId, state });
    }
    if (!opts.dryRun) for (const o of orphans) await removeRunResources(o.runId);
    // Loop devices of deleted workspace images that nothing mounts (their run id is unknown to list).
    if (!opts.dryRun && !opts.match) await reclaimOrphanDevices().catch(() => []);
    const snapshots: SweepResult | undefined = opts.match ? undefined : await sweepSnapshots(snapshotStore(new ArtifactStore()), { dryRun: opts.dryRun });
    if (opts.json) printJson({ removed: opts.dryRun ? [] : orphans, orphans, ...(snapshots ? { snapshots } : {}) });
    else {
      for (const o of orphans) say(`${opts.dryRun ? 'would remove' : 'removed'} ${o.runId} (${o.state.toLowerCase()})`);
      if (snapshots) {
        say(`snapshot chunks: ${snapshots.chunks} stored, ${snapshots.referenced} named by a snapshot; ${opts.dryRun ? 'would delete' : 'deleted'} ${snapshots.deleted} unnamed for longer than the grace period, ${snapshots.pending} unnamed noted for a later pass; ${snapshots.legacyArchives} whole-workspace archives superseded`);
      }
    }
  } finally {
    await client.connection.close();
  }
}
