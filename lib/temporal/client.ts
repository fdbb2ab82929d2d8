import { hostname } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { connectionOptions, temporalSettings } from './connection.js';

/** The task queue of workflows and activities (MLGYM_TASK_QUEUE separates independent deployments). */
export const TASK_QUEUE = process.env.MLGYM_TASK_QUEUE ?? 'mlgym';
/** Runs that need GPUs go here, polled only by workers started with `mlgym worker --gpus …`. */
export const GPU_TASK_QUEUE = process.env.MLGYM_GPU_TASK_QUEUE ?? `${TASK_QUEUE}-gpu`;

/** The queue of a run needing `gpus` GPUs: its workflow and all its activities run on a worker of that queue. */
export function taskQueueFor(gpus: number): string {
  return gpus > 0 ? GPU_TASK_QUEUE : TASK_QUEUE;
}

/**
 * This host's id: MLGYM_HOST_ID, else the machine's hostname. It names the host's task queue, so it must be
 * unique among the hosts of a deployment and the same after a restart (the host's containers wait for it).
 */
export function hostId(env: NodeJS.ProcessEnv = process.env): string {
  const id = (env.MLGYM_HOST_ID || hostname()).trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new Error(`MLGYM_HOST_ID must be letters, digits, ".", "_" or "-", got "${id}"`);
  return id;
}

/**
 * The task queue of one host's container activities: `<queue>@<hostId>`. Every worker polls its shared queue and
 * this one; provisioning returns it, and the run's container activities (tool exec, validate, submit, snapshot,
 * teardown) go there, to the host whose Docker engine holds the container (the worker-specific task queue pattern).
 */
export function hostTaskQueue(queue: string, host = hostId()): string {
  return `${queue}@${host}`;
}

/** The host queue for an activity running on `taskQueue`: a host queue is its own; a shared one gets this host's. */
export function hostQueueOf(taskQueue: string, host = hostId()): string {
  return taskQueue.includes('@') ? taskQueue : hostTaskQueue(taskQueue, host);
}

/** The namespace of the connection settings (TEMPORAL_NAMESPACE, else the profile's, else `default`). */
export function namespace(): string {
  return temporalSettings().namespace;
}

/** A client of the server at `address`, with the connection settings' TLS, API key and namespace (lib/temporal/connection.ts). */
export async function connectClient(address: string): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(address));
  return new Client({ connection, namespace: namespace() });
}
