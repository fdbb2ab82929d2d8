import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import { HOST_LOST } from '../lib/run/timeouts.js';
import { docker } from '../lib/sandbox/docker.js';

/**
 * How long this worker's Docker engine has not answered: one engine per worker process, so one clock for every
 * run on the host. Reset when the engine answers.
 */
let downSinceMs: number | undefined;

/**
 * Check, before a container activity touches the run's container, that this host's Docker engine answers. While it
 * does not, the activity fails and is retried (the engine may be restarting); once it has not answered for the
 * run's host timeout, the failure is HOST_LOST: not retried here, the run moves to another host. Without a host
 * timeout (runs from before moves), the activity is retried until the engine is back.
 */
export async function engineOrHostLost(hostTimeoutS: number | undefined, engine: Docker = docker(), now: () => number = Date.now): Promise<void> {
  try {
    await engine.ping();
    downSinceMs = undefined;
  } catch (err) {
    downSinceMs ??= now();
    const downS = Math.round((now() - downSinceMs) / 1000);
    const reason = `this host's Docker engine does not answer (for ${downS} s): ${(err as Error).message}`;
    if (hostTimeoutS !== undefined && downS >= hostTimeoutS) throw ApplicationFailure.nonRetryable(`${reason}; the run moves to another host`, HOST_LOST);
    throw ApplicationFailure.retryable(reason, 'EngineUnreachable');
  }
}
