import { activityInfo, heartbeat } from '@temporalio/activity';

/**
 * Heartbeat while `work` runs, so a worker that dies mid-activity is noticed within the heartbeat
 * timeout (seconds) instead of the start-to-close timeout (minutes or hours).
 */
export async function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  const timeoutMs = activityInfo().heartbeatTimeoutMs;
  if (!timeoutMs) return work();
  const timer = setInterval(() => heartbeat(), Math.max(200, timeoutMs / 3));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
