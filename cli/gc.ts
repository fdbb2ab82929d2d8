import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { docker, labels } from '../lib/sandbox/docker.js';
import { removeRunResources } from '../lib/sandbox/container.js';
import { connect } from './connect.js';
import { printJson, say } from './output.js';

/** Run ids that still hold a container or a workspace volume. */
async function runsWithResources(): Promise<string[]> {
  const containers = await docker().listContainers({ all: true, filters: { label: [labels.run] } });
  const { Volumes } = await docker().listVolumes({ filters: { label: [labels.run] } });
  const ids = [...containers.map((c) => c.Labels[labels.run]), ...(Volumes ?? []).map((v) => v.Labels?.[labels.run])];
  return [...new Set(ids.filter((id): id is string => Boolean(id)))].sort();
}

async function runState(client: Client, runId: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(runId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'UNKNOWN';
    throw err;
  }
}

/** `mlgym gc`: remove containers and volumes of runs that are finished or unknown to the server. */
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
    if (opts.json) printJson({ removed: opts.dryRun ? [] : orphans, orphans });
    else for (const o of orphans) say(`${opts.dryRun ? 'would remove' : 'removed'} ${o.runId} (${o.state.toLowerCase()})`);
  } finally {
    await client.connection.close();
  }
}
