// Composing the observations of an `external` run. Pure: the workflow builds them from activity
// results, so they must stay free of I/O and Node built-ins.
import { observationMessage } from '../agent/prompt.js';
import type { Attempt, ExitReason, RunResult } from '../run/types.js';
import type { GymFinal, GymMetric, GymObservation, GymState, GymValidation } from './types.js';

export function gymState(stepsUsed: number, maxSteps: number, openFile = 'n/a', workingDir = 'n/a'): GymState {
  return { stepsUsed, maxSteps, remaining: Math.max(0, maxSteps - stepsUsed), openFile, workingDir };
}

/** What the agent may see of a validate or submit: the shown split's metrics or error, never a validate's private test score. */
export function gymValidation(attempt: Attempt | undefined): GymValidation | null {
  if (!attempt) return null;
  return { kind: attempt.kind, metrics: attempt.shownMetrics ?? null, error: attempt.error ?? null };
}

export interface StepOutcome {
  runId: string;
  /** The step that ran (0-based); the observation's `step` is one more. */
  step: number;
  action: string;
  /** The action's output as recorded (capped); empty when it printed nothing. */
  output: string;
  /** Operator hints delivered with this observation. */
  hints: string[];
  maxSteps: number;
  openFile?: string;
  workingDir?: string;
  exitCode: number | null;
  attempt?: Attempt;
  metric: GymMetric;
}

/** The observation after a step, with the footer the built-in agent sees. */
export function stepObservation(o: StepOutcome): GymObservation {
  const state = gymState(o.step + 1, o.maxSteps, o.openFile, o.workingDir);
  return {
    runId: o.runId,
    step: o.step + 1,
    action: o.action,
    observation: observationMessage(o.output, o.hints, state),
    state,
    exitCode: o.exitCode,
    validation: gymValidation(o.attempt),
    metric: o.metric,
    task: null,
    done: false,
    terminated: false,
    truncated: false,
    final: null,
  };
}

/** The primary metric of a result's submission. */
export function gymFinal(result: RunResult, primaryMetric: string): GymFinal {
  const metrics = result.submission?.metrics ?? null;
  return { exitStatus: result.exitStatus, status: result.status, score: metrics?.[primaryMetric] ?? null, metrics, steps: result.steps, costUsd: result.costUsd };
}

/** Did the agent end the episode itself (Gym's `terminated`), rather than a limit or an operator (`truncated`)? */
export function endedByAgent(endedBy: ExitReason | 'submit'): boolean {
  return endedBy === 'submit' || endedBy === 'exit_forfeit';
}

/**
 * The observation that ends the episode: the last step's own observation when the episode ended with
 * it, else (cancelled or idle while waiting for an action) a note that it ended, at the last position.
 */
export function finalObservation(last: GymObservation | undefined, result: RunResult, endedBy: ExitReason | 'submit', fallback: Omit<GymObservation, 'done' | 'terminated' | 'truncated' | 'final'>): GymObservation {
  const final = gymFinal(result, fallback.metric.name);
  const flags = { done: true, terminated: endedByAgent(endedBy), truncated: !endedByAgent(endedBy), final };
  if (last) return { ...last, ...flags };
  const scored = final.score === null ? 'nothing could be scored' : `the workspace was scored: ${fallback.metric.name} ${final.score}`;
  const text = `The episode ended without another step (${result.exitStatus}): ${scored}.`;
  return { ...fallback, action: null, observation: observationMessage(text, [], fallback.state), exitCode: null, validation: null, task: null, ...flags };
}
