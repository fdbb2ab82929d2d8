import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { GymObservation, GymStatus, GymStepRequest } from '../lib/gym/types.js';
import type { CancelMode, RunStatus } from '../lib/run/types.js';

// Operator controls of a running agentRun (used by the CLI and the workflow).
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** A hint for the agent, added to its next observation. */
export const hintSignal = defineSignal<[string]>('hint');
/** End the run: `autosubmit` evaluates the workspace as it is, `forfeit` ends it unscored. */
export const cancelUpdate = defineUpdate<CancelMode, [CancelMode]>('cancel');
/** Raise the run's model budget by the given dollars; returns the new budget. */
export const addBudgetUpdate = defineUpdate<number, [number]>('addBudget');
export const statusQuery = defineQuery<RunStatus>('status');

// The Gym protocol of `external` runs (docs/gym.md): the client's action for a step, answered by the
// observation after it ran; the latest observation (waiting for a step in flight); where the protocol stands.
export const gymStepUpdate = defineUpdate<GymObservation, [GymStepRequest]>('step');
export const gymObserveUpdate = defineUpdate<GymObservation, []>('observe');
export const gymQuery = defineQuery<GymStatus>('gym');
