import { Client, Connection } from '@temporalio/client';

/** The task queue of workflows and activities (MLGYM_TASK_QUEUE separates independent deployments). */
export const TASK_QUEUE = process.env.MLGYM_TASK_QUEUE ?? 'mlgym';
/** Runs that need GPUs go here, polled only by workers started with `mlgym worker --gpus …`. */
export const GPU_TASK_QUEUE = process.env.MLGYM_GPU_TASK_QUEUE ?? `${TASK_QUEUE}-gpu`;

/** The queue of a run needing `gpus` GPUs: its workflow and all its activities run on a worker of that queue. */
export function taskQueueFor(gpus: number): string {
  return gpus > 0 ? GPU_TASK_QUEUE : TASK_QUEUE;
}

export function namespace(): string {
  return process.env.TEMPORAL_NAMESPACE ?? 'default';
}

export async function connectClient(address: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace: namespace() });
}
