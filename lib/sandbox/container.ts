import type Docker from 'dockerode';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { placedName, type LoadedTask } from '../config/load.js';
import { removeReader } from '../snapshots/reader.js';
import { buildTar, tarStream, treeEntries, type TarEntry } from './tar.js';
import { docker, hardenedHostConfig, isInUse, isNotFound, labels, AGENT_HOME, AGENT_UID, WORKSPACE } from './docker.js';
import { DEFAULT_DISK_GB, ensureQuotaVolume, imageBytes, imageOfRun, quotaEnabled, releaseRunDisk } from './quota.js';

export interface AgentContainer {
  id: string;
  name: string;
  volume: string;
}

export function containerName(runId: string): string {
  return `mlgym-${runId}`;
}

export function volumeName(runId: string): string {
  return `mlgym-ws-${runId}`;
}

/** Find the run's agent container by label (also stopped ones). */
export async function findAgentContainer(runId: string): Promise<Docker.ContainerInfo | undefined> {
  const found = await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${runId}`, `${labels.role}=agent`] } });
  return found[0];
}

export interface ProvisionSpec {
  runId: string;
  image: string;
  task: LoadedTask;
  model: string;
  /** The host GPUs allotted to the run (lib/sandbox/gpus.ts). */
  gpuIds?: string[];
}

/** The run's agent container if it exists, started if it was stopped (e.g. killed, or the engine restarted). */
export async function startExistingAgentContainer(runId: string): Promise<string | undefined> {
  const existing = await findAgentContainer(runId);
  if (!existing) return undefined;
  if (existing.State !== 'running') await docker().getContainer(existing.Id).start().catch(ignoreAlreadyStarted);
  return existing.Id;
}

async function volumeExists(name: string): Promise<boolean> {
  try {
    await docker().getVolume(name).inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * Create (or find) the run's hardened agent container: non-root `agent`, workspace on a named volume
 * (on its own quota disk, lib/sandbox/quota.ts), no capabilities, no new privileges, resource limits
 * and the task's network policy. `freshVolume` says the workspace is new (empty), so the caller must
 * fill or restore it; a re-created container finds the run's disk, and its files, again.
 */
export async function ensureAgentContainer(spec: ProvisionSpec): Promise<AgentContainer & { freshVolume: boolean }> {
  const volume = volumeName(spec.runId);
  const existing = await startExistingAgentContainer(spec.runId);
  if (existing) return { id: existing, name: containerName(spec.runId), volume, freshVolume: false };
  // A snapshot reader left from the lost container holds the volume, which may have to be made again.
  await removeReader(spec.runId);
  const freshVolume = await ensureWorkspaceVolume(spec.runId, volume, spec.task);
  const container = await docker().createContainer(agentContainerOptions(spec, volume));
  await container.start();
  return { id: container.id, name: containerName(spec.runId), volume, freshVolume };
}

/** The run's workspace volume: on a quota disk of the task's `disk_gb` plus its data, or (quotas off) a plain one. */
async function ensureWorkspaceVolume(runId: string, volume: string, task: LoadedTask): Promise<boolean> {
  if (!quotaEnabled()) {
    const fresh = !(await volumeExists(volume));
    await docker().createVolume({ Name: volume, Labels: { [labels.run]: runId } });
    return fresh;
  }
  const bytes = imageBytes(task.resources.disk_gb ?? DEFAULT_DISK_GB, taskDataBytes(task));
  return (await ensureQuotaVolume(runId, volume, bytes)).fresh;
}

/** Bytes of the task's local data, which is copied into the workspace (so it does not count against disk_gb). */
export function taskDataBytes(task: LoadedTask): number {
  const size = (path: string): number => {
    const st = statSync(path);
    return st.isDirectory() ? readdirSync(path).reduce((n, c) => n + size(join(path, c)), 0) : st.size;
  };
  return task.datasets.reduce((n, d) => n + (d.dataDir ? size(d.dataDir) : 0), 0);
}

/** The agent's container: non-root, workspace on the run's volume, hardened, the task's network policy. */
export function agentContainerOptions(spec: ProvisionSpec, volume: string): Docker.ContainerCreateOptions {
  return {
    name: containerName(spec.runId),
    Image: spec.image,
    User: 'agent',
    WorkingDir: WORKSPACE,
    Cmd: ['sleep', 'infinity'],
    Env: [`HOME=${AGENT_HOME}`, 'USER=agent', `MLGYM_DATA=${spec.task.data}`],
    Labels: { [labels.run]: spec.runId, [labels.role]: 'agent', [labels.task]: spec.task.id, [labels.model]: spec.model },
    HostConfig: {
      ...hardenedHostConfig(spec.task.resources, spec.gpuIds),
      Mounts: [{ Type: 'volume', Source: volume, Target: WORKSPACE }],
      NetworkMode: spec.task.network,
    },
  };
}

function ignoreAlreadyStarted(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode !== 304) throw err;
}

/** Copy data (root-owned, read-only) and starter code (agent-owned) into a new workspace. */
export async function fillWorkspace(containerId: string, task: LoadedTask): Promise<void> {
  await fillTaskData(containerId, task);
  await fillStarterCode(containerId, task);
}

/** The task's starter code, agent-owned. */
export async function fillStarterCode(containerId: string, task: LoadedTask): Promise<void> {
  const agent = { uid: AGENT_UID, gid: AGENT_UID, readOnly: false };
  const entries: TarEntry[] = task.starter_code.flatMap((p) => treeEntries(join(task.dir, p), placedName(p), agent));
  if (entries.length) await docker().getContainer(containerId).putArchive(await buildTar(entries), { path: WORKSPACE });
}

/**
 * The archive entries of the task's local data: each dataset at its `workspaceDir` (data/<name> for our tasks,
 * data itself for an MLGym task's, as MLGym copies it), root-owned and read-only, each folder once.
 */
export function taskDataEntries(task: Pick<LoadedTask, 'datasets'>): TarEntry[] {
  const root = { uid: 0, gid: 0, readOnly: true };
  const entries: TarEntry[] = [{ name: 'data', mode: 0o555, uid: 0, gid: 0 }];
  const named = new Set(['data']);
  for (const d of task.datasets) {
    if (d.dataDir === undefined) continue;
    for (const e of treeEntries(d.dataDir, d.workspaceDir, root, { stream: true })) {
      if (e.content === undefined && e.file === undefined && named.has(e.name)) continue; // a folder already made
      named.add(e.name);
      entries.push(e);
    }
  }
  return entries.length > 1 ? entries : [];
}

/**
 * The task's local data under `data/` (taskDataEntries), streamed from the host (datasets can be larger
 * than memory). Snapshots leave it out; a restore calls this again.
 */
export async function fillTaskData(containerId: string, task: LoadedTask): Promise<void> {
  const entries = taskDataEntries(task);
  if (entries.length) await docker().getContainer(containerId).putArchive(tarStream(entries), { path: WORKSPACE });
}

/** How often removeRunResources removes the run's containers again when its volume is still in use. */
const REMOVE_TRIES = 3;

/**
 * Remove the run's containers and workspace volume, and give back its quota disk (loop device and image).
 * An activity of the run still in flight (its workflow was just terminated, say) can create a container
 * between the listing and the volume's removal; the volume is then in use, and the run's containers are
 * removed again.
 */
export async function removeRunResources(runId: string): Promise<void> {
  const volume = volumeName(runId);
  const image = await imageOfRun(runId, volume);
  let attempt = 1;
  while (!(await removeContainersAndVolume(runId, volume, attempt))) attempt++;
  await releaseRunDisk(runId, image);
}

/** One try of removeRunResources: false when the volume is still in use and another try is left. */
async function removeContainersAndVolume(runId: string, volume: string, attempt: number): Promise<boolean> {
  const all = await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${runId}`] } });
  for (const c of all) await docker().getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreNotFound);
  try {
    await docker().getVolume(volume).remove();
  } catch (err) {
    if (!isInUse(err)) ignoreNotFound(err);
    else if (attempt < REMOVE_TRIES) return false;
    else throw new Error(`cannot remove ${volume}: still in use after the run's containers were removed ${REMOVE_TRIES} times: is a container without the run's label using it? (${(err as Error).message})`);
  }
  return true;
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
