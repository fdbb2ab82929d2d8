// The Gym protocol of an `external` run: what a client sends (the `step` and `observe` updates) and
// what it gets back. Pure types and constants: imported by the workflow, the activities and the clients.
import type { Metrics } from '../run/types.js';

/** The agent spec of a run driven from outside (`--model external`). */
export const EXTERNAL_MODEL = 'external';

/** Seconds without a client action before an external run pauses (RunInput.idlePauseS). */
export const DEFAULT_IDLE_PAUSE_S = 600;
/** Seconds an idle-paused external run waits for its client before it ends with an autosubmit (RunInput.idleEndS). */
export const DEFAULT_IDLE_END_S = 3600;
/** The longest action a client may send (characters). */
export const MAX_ACTION_CHARS = 100_000;

/** The failure type of an update that must be sent again: the run continued as new while it waited. */
export const GYM_RETRY = 'GymRetry';

/** Argument of the `step` update: the action for step `step` (0-based; the observation's `step` says which is next). */
export interface GymStepRequest {
  step: number;
  /** One command as the built-in agent writes it: a shell command, an ACI command, `validate`, `submit` or `exit_forfeit`. */
  action: string;
}

/** Where the agent is after an observation: the fields of the footer the built-in agent sees. */
export interface GymState {
  stepsUsed: number;
  maxSteps: number;
  remaining: number;
  openFile: string;
  workingDir: string;
}

/** The task's primary metric, its direction and the baseline's score on it (null if none is recorded). */
export interface GymMetric {
  name: string;
  direction: 'max' | 'min';
  baseline: number | null;
}

/** What the first observation tells about the task. */
export interface GymTaskInfo {
  id: string;
  name: string;
  description: string;
  /** The command documentation of the agent-computer interface. */
  commands: string;
  /** The system prompt the built-in LLM agent gets (its reply-format rules assume a fenced command). */
  systemPrompt: string;
  submissionArtifact: string | null;
  data: 'real' | 'fixture';
  baselineMetrics: Metrics | null;
}

/** The result of a `validate` or `submit` action, as the agent may see it (never the private test score of a validate). */
export interface GymValidation {
  kind: 'validate' | 'submit';
  metrics: Metrics | null;
  error: string | null;
}

/** How the episode ended (on the observation that ends it). */
export interface GymFinal {
  /** MLGym's exit status: `submitted`, `autosubmission (max_steps)`, … */
  exitStatus: string;
  status: 'completed' | 'failed';
  /** The submission's primary metric on the test split, null when nothing could be scored. */
  score: number | null;
  metrics: Metrics | null;
  steps: number;
  costUsd: number;
}

/** The answer to `step` and `observe`. */
export interface GymObservation {
  runId: string;
  /** Steps used so far: the number the next `step` update must carry. */
  step: number;
  /** The action this observation answers (null for the first observation and for an episode ended without a step). */
  action: string | null;
  /** The text the built-in agent sees: the output, any operator notes, then the footer. */
  observation: string;
  state: GymState;
  /** The command's exit code (null: not a shell command, or it was killed). */
  exitCode: number | null;
  validation: GymValidation | null;
  metric: GymMetric;
  /** Only on the first observation. */
  task: GymTaskInfo | null;
  /** The episode is over: no more steps are taken. */
  done: boolean;
  /** It ended by the agent's own `submit` or `exit_forfeit`. */
  terminated: boolean;
  /** It ended by a limit or an operator: step limit, cancel, idle client; the workspace was autosubmitted. */
  truncated: boolean;
  final: GymFinal | null;
}

/** Answer of the `gym` query: where the protocol stands, without waiting. */
export interface GymStatus {
  runId: string;
  /** The number the next `step` update must carry. */
  nextStep: number;
  /** A step whose action has arrived but has not started (operator pause, or the run is between executions). */
  pendingStep: number | null;
  /** The step whose action is running. */
  runningStep: number | null;
  idlePaused: boolean;
  idlePauseS: number;
  idleEndS: number;
  ended: boolean;
}

/** What an external run carries across continue-as-new (RunState.gym). */
export interface GymRunState {
  /** An accepted action that has not started yet. */
  pending?: GymStepRequest;
  /** Paused because the client went silent (a client action resumes it). */
  idlePaused?: boolean;
}
