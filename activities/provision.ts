import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import { ensureTaskImage } from '../lib/sandbox/images.js';
import { ensureAgentContainer, fillTaskData, fillWorkspace, startExistingAgentContainer, volumeName } from '../lib/sandbox/container.js';
import { DiskQuotaError } from '../lib/sandbox/quota.js';
import { restoreSnapshot, restoreWorkspace, takeSnapshot } from '../lib/sandbox/snapshot.js';
import { latestManifest, type SnapshotStats } from '../lib/snapshots/manifest.js';
import { snapshotStore } from '../lib/snapshots/store.js';
import type { ArtifactStore } from '../lib/artifacts/store.js';
import type { LoadedTask } from '../lib/config/load.js';
import { recordName } from '../lib/run/records.js';
import { hostQueueOf } from '../lib/temporal/client.js';
import type { ProvisionResult, TaskRef } from '../lib/run/types.js';
import { primaryMetricOf } from '../lib/scoring/direction.js';
import { dataOrFail, gpusOrFail, taskOrFail, type ActivityDeps } from './context.js';
import { engineOrHostLost } from './engine.js';
import { withHeartbeat } from './heartbeat.js';

export interface ProvisionInput extends TaskRef {
  runId: string;
  model: string;
}

/** A whole-workspace tar: the snapshot format before manifests; restored if a run has nothing newer. */
const LEGACY_SNAPSHOT = 'snapshots/workspace.tar';

/** Fills a run's new, empty workspace; returns what it did, for the run's log. */
export type WorkspaceFill = (store: ArtifactStore, runId: string, containerId: string, task: LoadedTask) => Promise<string>;

/**
 * The run's container, whatever happened to it: running → as is; stopped → started; gone → created
 * again on the run's disk (its files are still there); disk gone too → the workspace restored from
 * the latest snapshot (or filled fresh if there is none), or filled by `fill` when given (a fork's).
 */
export async function ensureRunContainer(store: ArtifactStore, input: ProvisionInput, fill: WorkspaceFill = restoreOrFill): Promise<ProvisionResult> {
  const { runId, model } = input;
  const task = taskOrFail(input);
  dataOrFail(task);
  const image = await ensureTaskImage(task, (line) => void store.log(runId, `[build] ${line}`));
  const gpuIds = await gpusOrFail(runId, task.resources.gpus);
  const container = await quotaOrFail(() => ensureAgentContainer({ runId, image, task, model, gpuIds }));
  if (container.freshVolume) {
    const how = await fill(store, runId, container.id, task);
    await store.log(runId, `${how} container ${container.name} from ${image}`);
  }
  const { name: primaryMetric, direction } = primaryMetricOf(task);
  return { containerId: container.id, image, primaryMetric, direction };
}

/** Fill a new, empty workspace: from the run's latest snapshot (plus the task's data), else from the task. */
async function restoreOrFill(store: ArtifactStore, runId: string, containerId: string, task: LoadedTask): Promise<string> {
  const manifest = await latestManifest(snapshotStore(store), runId);
  if (manifest) {
    await fillTaskData(containerId, task);
    const via = await restoreSnapshot(snapshotStore(store), containerId, manifest, volumeName(runId));
    return `restored the snapshot of step ${manifest.step} (${manifest.stats.files} files, ${manifest.stats.fileBytes} bytes, ${via === 'host' ? 'written on the host' : 'as an archive'}) into`;
  }
  const legacy = await snapshotStore(store).getStream(`runs/${runId}/${LEGACY_SNAPSHOT}`);
  if (legacy) {
    await restoreWorkspace(containerId, legacy);
    return 'restored (whole-workspace archive)';
  }
  await fillWorkspace(containerId, task);
  return 'provisioned';
}

/** A host that cannot make quota disks at all (no root, no losetup) fails the run with the reason; other failures are retried. */
async function quotaOrFail<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DiskQuotaError && err.permanent) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
    throw err;
  }
}

/** The container id for a command: the fast path finds it by label; a lost container is re-provisioned. */
export async function runContainer(store: ArtifactStore, input: ProvisionInput): Promise<string> {
  return (await startExistingAgentContainer(input.runId)) ?? (await ensureRunContainer(store, input)).containerId;
}

/**
 * Provision the run's container on this worker's host, and name the host's task queue: the run's container
 * activities go there. Provision itself runs on the shared queue (any host; a host that finds no container of
 * the run makes one, restoring the latest snapshot from the shared artifact store).
 */
export function makeProvision({ store }: ActivityDeps) {
  return async function provision(input: ProvisionInput): Promise<ProvisionResult> {
    const result = { ...(await withHeartbeat(() => ensureRunContainer(store, input))), hostQueue: hostQueueOf(activityInfo().taskQueue) };
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
  /** The run's host timeout (RunState.hostTimeoutS): how long this host's engine may not answer before the run moves. */
  hostTimeoutS?: number;
}

/**
 * Save the workspace to the artifact store, so a lost container or host costs nothing but time:
 * incremental (only new and changed files are read, only chunks the store lacks are written) and
 * streamed (lib/sandbox/snapshot.ts). `bytes` is what this snapshot wrote.
 */
export function makeSnapshot({ store }: ActivityDeps) {
  return async function snapshot({ runId, step, hostTimeoutS }: SnapshotInput): Promise<{ bytes: number } & Partial<SnapshotStats>> {
    await engineOrHostLost(hostTimeoutS);
    const stats = await withHeartbeat(() => takeSnapshot(snapshotStore(store), runId, step));
    if (!stats) return { bytes: 0 };
    await store.log(
      runId,
      `snapshot of step ${step}: ${stats.files} files, ${stats.fileBytes} bytes; read ${stats.readFiles} files (${stats.readBytes} bytes), ` +
        `wrote ${stats.newChunks} new chunks (${stats.newBytes} bytes) in ${Math.round(stats.ms)} ms`,
    );
    return { ...stats, bytes: stats.newBytes + stats.manifestBytes };
  };
}
