import { Worker, type WorkerOptions, type WorkerPlugin } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { hostTaskQueue, namespace, TASK_QUEUE } from './lib/temporal/client.js';
import { promote, versioningOptions } from './lib/temporal/deployment.js';
import { cachedWorkflowBundle } from './lib/temporal/workflowBundle.js';

/** Options of the shared worker that also apply to its host-queue twin (activity slots, shutdown). */
const SHARED_WITH_HOST_QUEUE = ['identity', 'maxConcurrentActivityTaskExecutions', 'maxHeartbeatThrottleInterval', 'defaultHeartbeatThrottleInterval', 'shutdownGraceTime', 'shutdownForceTime'] as const;

/**
 * Wire workflows and activities into a worker on the mlgym task queue (or `overrides.taskQueue`). The worker
 * also serves its host's queue (`<queue>@<hostId>`, lib/temporal/client.ts), where the container activities of
 * the runs it provisioned are sent: a second, activity-only Worker that runs and stops with this one, so callers
 * keep one Worker to run, runUntil and shut down.
 */
export async function createWorker(connection: NativeConnection, overrides: Partial<WorkerOptions> = {}): Promise<Worker> {
  const taskQueue = overrides.taskQueue ?? TASK_QUEUE;
  const activities = createActivities();
  const shared = Object.fromEntries(SHARED_WITH_HOST_QUEUE.filter((k) => overrides[k] !== undefined).map((k) => [k, overrides[k]]));
  // Both workers are one version of the Worker Deployment; runs stay on the build that started them (docs/versioning.md).
  const { options: versioned, deployment } = versioningOptions(overrides);
  // Activity interceptors (tracing) apply to the container activities too; workflow ones have no workflows there.
  const activityInterceptors = overrides.interceptors?.activity ? { interceptors: { activity: overrides.interceptors.activity } } : {};
  const hostWorker = await Worker.create({ connection, namespace: namespace(), taskQueue: hostTaskQueue(taskQueue), activities, ...shared, ...activityInterceptors, ...versioned });
  // This checkout's workflows come bundled once per build and host (with any workflow interceptors); a caller's
  // own workflowsPath is bundled by Worker.create.
  const workflowCode = overrides.workflowsPath
    ? {}
    : { workflowBundle: await cachedWorkflowBundle(overrides.interceptors?.workflowModules), interceptors: { ...overrides.interceptors, workflowModules: [] } };
  const worker = await Worker.create({
    connection,
    namespace: namespace(),
    taskQueue,
    activities,
    // If this worker dies, its workflows' next tasks go to another worker after this long (default 10 s).
    stickyQueueScheduleToStartTimeout: '3s',
    ...overrides,
    ...workflowCode,
    ...versioned,
    plugins: [...(overrides.plugins ?? []), alongside(hostWorker)],
  });
  if (deployment) await promote(connection, namespace(), deployment);
  return worker;
}

/** Run `other` while the worker runs: started with it, shut down when it stops; a fatal error of either stops both. */
function alongside(other: Worker): WorkerPlugin {
  return {
    name: 'mlgym-host-queue',
    async runWorker(worker, next) {
      const otherRun = other.run();
      otherRun.catch(() => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      });
      try {
        await next(worker);
      } finally {
        if (other.getState() === 'RUNNING') other.shutdown();
        await otherRun;
      }
    },
  };
}
