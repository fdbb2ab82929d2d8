import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
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
