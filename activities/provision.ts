import { ensureTaskImage } from '../lib/sandbox/images.js';
import { ensureAgentContainer, fillWorkspace, startExistingAgentContainer } from '../lib/sandbox/container.js';
import { archiveWorkspace, restoreWorkspace } from '../lib/sandbox/snapshot.js';
import type { ArtifactStore } from '../lib/artifacts/store.js';
import { recordName } from '../lib/run/records.js';
import type { ProvisionResult, TaskRef } from '../lib/run/types.js';
import { primaryMetricOf } from '../lib/scoring/direction.js';
import { dataOrFail, gpusOrFail, taskOrFail, type ActivityDeps } from './context.js';
import { withHeartbeat } from './heartbeat.js';

export interface ProvisionInput extends TaskRef {
  runId: string;
  model: string;
}

const SNAPSHOT = 'snapshots/workspace.tar';

/**
 * The run's container, whatever happened to it: running → as is; stopped → started; gone → created
 * again, its workspace restored from the latest snapshot (or filled fresh if there is none).
 */
export async function ensureRunContainer(store: ArtifactStore, input: ProvisionInput): Promise<ProvisionResult> {
  const { runId, model } = input;
  const task = taskOrFail(input);
  dataOrFail(task);
  const image = await ensureTaskImage(task, (line) => void store.log(runId, `[build] ${line}`));
  const gpuIds = await gpusOrFail(runId, task.resources.gpus);
  const container = await ensureAgentContainer({ runId, image, task, model, gpuIds });
  if (container.freshVolume) {
    const snapshot = await store.readBuffer(runId, SNAPSHOT);
    if (snapshot) await restoreWorkspace(container.id, snapshot);
    else await fillWorkspace(container.id, task);
    await store.log(runId, `${snapshot ? 'restored' : 'provisioned'} container ${container.name} from ${image}`);
  }
  const { name: primaryMetric, direction } = primaryMetricOf(task);
  return { containerId: container.id, image, primaryMetric, direction };
}

/** The container id for a command: the fast path finds it by label; a lost container is re-provisioned. */
export async function runContainer(store: ArtifactStore, input: ProvisionInput): Promise<string> {
  return (await startExistingAgentContainer(input.runId)) ?? (await ensureRunContainer(store, input)).containerId;
}

export function makeProvision({ store }: ActivityDeps) {
  return async function provision(input: ProvisionInput): Promise<ProvisionResult> {
    const result = await withHeartbeat(() => ensureRunContainer(store, input));
    await store.writeJson(input.runId, recordName.provision, result);
    return result;
  };
}

export interface ReserveGpusInput {
  runId: string;
  count: number;
}

/** Lease GPUs of this host for the run before provisioning; retried (the run waits) while they are taken. */
export async function reserveGpus({ runId, count }: ReserveGpusInput): Promise<string[]> {
  return withHeartbeat(() => gpusOrFail(runId, count));
}

export interface SnapshotInput {
  runId: string;
  step: number;
}

/** Save the workspace to the artifact store, so a lost container or host costs nothing but time. */
export function makeSnapshot({ store }: ActivityDeps) {
  return async function snapshot({ runId, step }: SnapshotInput): Promise<{ bytes: number }> {
    const container = await startExistingAgentContainer(runId);
    if (!container) return { bytes: 0 };
    const archive = await withHeartbeat(() => archiveWorkspace(container));
    await store.write(runId, SNAPSHOT, archive);
    await store.writeJson(runId, 'snapshots/latest.json', { step, bytes: archive.length });
    return { bytes: archive.length };
  };
}
