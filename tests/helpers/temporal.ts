import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import { createWorker } from '../../worker.js';

let installed = false;

export interface TestTemporal {
  client: Client;
  connection: NativeConnection;
  /** A worker of the project's workflows and activities on the given task queue. */
  worker: (taskQueue?: string) => Promise<Worker>;
  close: () => Promise<void>;
}

/** Connect a client and a worker to the suite's dev server (TEMPORAL_ADDRESS, set by globalSetup). */
export async function connectTest(): Promise<TestTemporal> {
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

/** Connected for the tests of the calling file: before all of them, closed after. */
export function useTestTemporal(): Omit<TestTemporal, 'close'> {
  let t: TestTemporal | undefined;
  beforeAll(async () => {
    t = await connectTest();
  });
  afterAll(async () => t?.close());
  return {
    get client() {
      return t!.client;
    },
    get connection() {
      return t!.connection;
    },
    worker: (taskQueue?: string) => t!.worker(taskQueue),
  };
}
