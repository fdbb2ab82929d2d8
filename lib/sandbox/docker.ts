import Docker from 'dockerode';
import type { TaskConfig } from '../config/schema.js';

let instance: Docker | undefined;

/** The Docker engine from DOCKER_HOST, else the default socket. */
export function docker(): Docker {
  instance ??= new Docker();
  return instance;
}

export const AGENT_UID = 1000;
export const AGENT_HOME = '/home/agent';
export const WORKSPACE = '/home/agent/workspace';
export const RUNTIME_DIR = '/opt/mlgym';

export const labels = {
  run: 'mlgym.run',
  role: 'mlgym.role',
  task: 'mlgym.task',
  model: 'mlgym.model',
} as const;

/**
 * Limits and hardening shared by the agent's and the grader's containers: no capabilities, no new
 * privileges, memory (without extra swap), CPU and pids limits, and the run's GPUs (allotted by
 * lib/sandbox/gpus.ts) as a device request for exactly those devices.
 */
export function hardenedHostConfig(resources: TaskConfig['resources'], gpuIds: string[] = []): Docker.HostConfig {
  const memory = resources.memory_mb * 1024 * 1024;
  return {
    Init: true,
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Memory: memory,
    MemorySwap: memory,
    NanoCpus: Math.round(resources.cpus * 1e9),
    PidsLimit: resources.pids,
    ...(gpuIds.length ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: gpuIds, Capabilities: [['gpu']] }] } : {}),
  };
}

export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** The engine refused because something still uses the object (a volume mounted by a container, say). */
export function isInUse(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 409;
}

/** Follow a Docker stream (build or pull progress); an error event inside it fails the whole operation. */
export function followProgress(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    docker().modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : failure ? reject(new Error(failure)) : resolve()),
      (event: { stream?: string; error?: string; status?: string }) => {
        if (event.error) failure = event.error.trim();
        const text = event.error ?? event.stream ?? event.status;
        if (text?.trim()) onLine(text.trimEnd());
      },
    );
  });
}
