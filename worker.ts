import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { namespace, TASK_QUEUE } from './lib/temporal/client.js';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** Wire workflows and activities into a worker on the mlgym task queue. */
export function createWorker(connection: NativeConnection, overrides: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: namespace(),
    taskQueue: TASK_QUEUE,
    workflowsPath,
    activities: createActivities(),
    // If this worker dies, its workflows' next tasks go to another worker after this long (default 10 s).
    stickyQueueScheduleToStartTimeout: '3s',
    ...overrides,
  });
}
