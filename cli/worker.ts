import type { Worker } from '@temporalio/worker';

let runtimeInstalled = false;

/**
 * A worker of this process on `taskQueue`. The worker runtime (a native addon and the workflow bundler)
 * is loaded only here, so commands that run no workflow start without it.
 */
export async function startWorker(address: string, taskQueue: string): Promise<Worker> {
  const { DefaultLogger, NativeConnection, Runtime } = await import('@temporalio/worker');
  if (!runtimeInstalled) {
    // Worker chatter (bundling, state changes) stays out of the CLI's output; warnings still show.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const { createWorker } = await import('../worker.js');
  return createWorker(await NativeConnection.connect({ address }), { taskQueue });
}
