import type { RunInput } from './types.js';

/** How long a run's activity may go without a heartbeat before it is retried elsewhere (RunInput.heartbeatTimeoutS). */
export const DEFAULT_HEARTBEAT_TIMEOUT_S = 10;

export function heartbeatTimeoutS(input: Pick<RunInput, 'heartbeatTimeoutS'>): number {
  return input.heartbeatTimeoutS ?? DEFAULT_HEARTBEAT_TIMEOUT_S;
}

/** How long a container activity waits for the run's host before the run moves to another (RunInput.hostTimeoutS). */
export const DEFAULT_HOST_TIMEOUT_S = 300;

export function hostTimeoutS(input: Pick<RunInput, 'hostTimeoutS'>): number {
  return input.hostTimeoutS ?? DEFAULT_HOST_TIMEOUT_S;
}

/** The failure type of a container activity whose host's Docker engine has not answered for the host timeout: the run moves. */
export const HOST_LOST = 'HostLost';

/**
 * Start options of an agentRun workflow: a workflow task held by a worker that died times out as
 * soon as an activity of that worker would, so a kill between two steps costs no more than one in a
 * step (Temporal's default workflow task timeout is 10 s whatever the heartbeat timeout).
 */
export function runStartTimeouts(input: Pick<RunInput, 'heartbeatTimeoutS'>): { workflowTaskTimeout: string } {
  return { workflowTaskTimeout: `${Math.min(heartbeatTimeoutS(input), DEFAULT_HEARTBEAT_TIMEOUT_S)}s` };
}
