import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * How recently a worker must have polled to count as serving a queue. A live worker's poll is a long poll the
 * server holds up to a minute, and the server remembers a poller for minutes after it stopped: a poll seen
 * within this window means a worker is there (or stopped at most this long ago).
 */
export const POLLER_WINDOW_MS = 90_000;

/** Whether a worker polled `taskQueue` for workflow tasks within `windowMs` (the server's DescribeTaskQueue). */
export async function queueHasWorker(client: Client, taskQueue: string, windowMs = POLLER_WINDOW_MS): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const since = Date.now() - windowMs;
  return (pollers ?? []).some((p) => {
    const seconds = Number(p.lastAccessTime?.seconds ?? 0);
    return seconds * 1000 >= since;
  });
}

/**
 * The queue of a worker the CLI hosts for one run or benchmark it started: served by that CLI process alone, so
 * it never takes other runs' work (nor they its). `~` cannot appear in a run id, so it never names a shared queue.
 */
export function cliQueue(sharedQueue: string, id: string): string {
  return `${sharedQueue}~${id}`;
}

export function isCliQueue(taskQueue: string): boolean {
  return taskQueue.includes('~');
}
