import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** The task queue of workflows and activities (MLGYM_TASK_QUEUE separates independent deployments). */
export const TASK_QUEUE = process.env.MLGYM_TASK_QUEUE ?? 'mlgym';

export function namespace(): string {
  return process.env.TEMPORAL_NAMESPACE ?? 'default';
}

export async function connectClient(address: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace: namespace() });
}

export function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}
