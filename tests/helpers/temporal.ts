import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker } from '../../worker.js';

let installed = false;

/** Connect a client and a worker to the suite's dev server (TEMPORAL_ADDRESS, set by globalSetup). */
export async function connectTest(): Promise<{ client: Client; connection: NativeConnection; worker: (taskQueue?: string) => Promise<Worker>; close: () => Promise<void> }> {
  if (!installed) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    installed = true;
  }
  const address = process.env.TEMPORAL_ADDRESS!;
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  const connection = await NativeConnection.connect({ address });
  return {
    client,
    connection,
    worker: (taskQueue?: string) => createWorker(connection, taskQueue ? { taskQueue } : {}),
    close: async () => {
      await clientConnection.close();
      await connection.close();
    },
  };
}
