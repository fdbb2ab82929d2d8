import type Docker from 'dockerode';
import { dirname, join } from 'node:path';
import { placedName, type LoadedTask } from '../config/load.js';
import { buildTar, treeEntries, type TarEntry } from './tar.js';
import { docker, hardenedHostConfig, isNotFound, labels, AGENT_HOME, AGENT_UID, WORKSPACE } from './docker.js';

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
 * Create (or find) the run's hardened agent container: non-root `agent`, workspace on a named volume,
 * no capabilities, no new privileges, resource limits and the task's network policy.
 * `freshVolume` says the workspace volume is new, so the caller must fill or restore it.
 */
export async function ensureAgentContainer(spec: ProvisionSpec): Promise<AgentContainer & { freshVolume: boolean }> {
  const volume = volumeName(spec.runId);
  const existing = await startExistingAgentContainer(spec.runId);
  if (existing) return { id: existing, name: containerName(spec.runId), volume, freshVolume: false };
  const freshVolume = !(await volumeExists(volume));
  await docker().createVolume({ Name: volume, Labels: { [labels.run]: spec.runId } });
  const container = await docker().createContainer(agentContainerOptions(spec, volume));
  await container.start();
  return { id: container.id, name: containerName(spec.runId), volume, freshVolume };
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
  const agent = { uid: AGENT_UID, gid: AGENT_UID, readOnly: false };
  const root = { uid: 0, gid: 0, readOnly: true };
  const entries: TarEntry[] = task.starter_code.flatMap((p) => treeEntries(join(task.dir, p), placedName(p), agent));
  const localData = task.datasets.filter((d) => d.dataDir !== undefined);
  if (localData.length) {
    entries.push({ name: 'data', mode: 0o555, uid: 0, gid: 0 });
    for (const d of localData) entries.push(...treeEntries(d.dataDir!, `data/${d.name}`, root));
  }
  if (entries.length) await docker().getContainer(containerId).putArchive(await buildTar(entries), { path: WORKSPACE });
}

/** Remove the run's containers and workspace volume. */
export async function removeRunResources(runId: string): Promise<void> {
  const all = await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${runId}`] } });
  for (const c of all) await docker().getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreNotFound);
  await docker().getVolume(volumeName(runId)).remove().catch(ignoreNotFound);
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
