// Types shared by workflows and activities. Pure: imported by workflow code.
import type { DataVariant } from '../config/schema.js';
import type { GymObservation, GymRunState } from '../gym/types.js';
import type { Protocol } from './protocol.js';

/** Which task a run is on, and how: the data variant, and a GPU count other than the task's. */
export interface TaskRef {
  taskId: string;
  /** A task YAML outside the task folders (`mlgym run path/to/task.yaml`), absolute; else found by id. */
  taskFile?: string;
  /** `real` (default) or `fixture`: the small generated data, sized for a CPU. */
  data?: DataVariant;
  /** GPUs for the run, overriding the task's resources.gpus (fixture runs default to 0). */
  gpus?: number;
  /** What validate shows the agent (lib/run/protocol.ts); absent: ours. */
  protocol?: Protocol;
}

export type Metrics = Record<string, number>;

export interface RunInput extends TaskRef {
  runId: string;
  /** Agent spec: `baseline`, `replay:<file>`, `external` (driven by a Gym client), a registry id or `openai:<model>`. */
  model: string;
  seed: number;
  maxSteps: number;
  /** Keep the container and volume after the run. */
  keep: boolean;
  /** Continue-as-new after this many steps in one execution. */
  continueEvery: number;
  /** Heartbeat timeout of every activity: how soon a dead worker's work moves to another (default 10). */
  heartbeatTimeoutS?: number;
  /** Seconds a container activity may wait for the run's host before the run moves to another host (default 300). */
  hostTimeoutS?: number;
  /** Dollar budget for model calls (0 = no LLM spend allowed). */
  budgetUsd?: number;
  /** Set when the run is part of a benchmark. */
  benchId?: string;
  /** `external` runs: seconds without a client action before the run pauses (default 600). */
  idlePauseS?: number;
  /** `external` runs: seconds an idle-paused run waits for its client before it ends with an autosubmit (default 3600). */
  idleEndS?: number;
  /** A fork: the run starts as a copy of another run after one of its steps (docs/fork.md). */
  fork?: ForkRef;
  /** Carried across continue-as-new. */
  state?: RunState;
}

/** Where a fork comes from: its parent run and the last step it shares with it. */
export interface ForkRef {
  parentRunId: string;
  /** The fork's steps 0..atStep are the parent's; it goes on live from atStep + 1. */
  atStep: number;
  /** An operator hint given with the fork's first live turn. */
  hint?: string;
}

export interface RunState {
  step: number;
  costUsd: number;
  budgetUsd: number;
  attempts: Attempt[];
  image: string;
  primaryMetric: string;
  direction: 'max' | 'min';
  /** Operator hints waiting to be added to the next observation. */
  hints: string[];
  lastAction: string;
  paused: boolean;
  cancel?: CancelMode;
  /** `external` runs: the Gym protocol's state (lib/gym/types.ts). */
  gym?: GymRunState;
  /** The task queue of the host holding the run's container (ProvisionResult.hostQueue); unset: the run's own queue. */
  hostQueue?: string;
  /**
   * Set when the run may move off a lost host (the `host-migration` patch): how long its container activities wait
   * for the host's worker (RunInput.hostTimeoutS). Unset in runs started before the patch: they wait for their host.
   */
  hostTimeoutS?: number;
  /** How many times the run moved to another host (activities/migrate.ts). */
  migrations?: number;
}

export type CancelMode = 'autosubmit' | 'forfeit';

/** Live state answered by the `status` query. */
export interface RunStatus {
  runId: string;
  task: string;
  model: string;
  status: 'provisioning' | 'running' | 'paused' | 'finishing' | 'completed' | 'failed';
  step: number;
  maxSteps: number;
  costUsd: number;
  budgetUsd: number;
  bestScore: number | null;
  primaryMetric: string;
  lastAction: string;
  container: string;
  pendingHints: number;
  protocol: Protocol;
  /** The task queue of the host holding the container, once provisioned. */
  hostQueue?: string;
  /** How many times the run moved off a lost host. */
  migrations?: number;
}

export interface ProvisionResult {
  containerId: string;
  image: string;
  primaryMetric: string;
  direction: 'max' | 'min';
  /**
   * The task queue of the host whose Docker engine holds the container (`<queue>@<hostId>`): the run's container
   * activities go there. Absent in results of provisions from before host queues.
   */
  hostQueue?: string;
}

/** Exit reasons that end a run without the agent's `submit` (MLGym's names). */
export type ExitReason = 'max_steps' | 'exit_cancel' | 'exit_format' | 'exit_cost' | 'exit_context' | 'exit_api' | 'exit_error' | 'exit_forfeit';

export type AgentAction =
  | { kind: 'command'; command: string }
  | { kind: 'validate' }
  | { kind: 'submit' }
  | { kind: 'exit'; reason: ExitReason };

export interface TurnResult {
  action: AgentAction;
  thought: string;
  costUsd: number;
  /** Operator hints the agent was given with this turn. */
  hints?: string[];
}

export interface ToolResult {
  exitCode: number | null;
  timedOut: boolean;
  outputChars: number;
}

export type AttemptKind = 'validate' | 'submit';

export interface Attempt {
  step: number;
  kind: AttemptKind;
  /** Scored metrics (the test split): what "best attempt" and "best submission" use. */
  metrics?: Metrics;
  /** What the agent was shown (the validation split unless the task opts into MLGym's behaviour). */
  shownMetrics?: Metrics;
  /** Why the shown split could not be evaluated (shown to the agent). */
  error?: string;
  /** Why the private test split could not be evaluated when the shown one could (never shown). */
  scoringError?: string;
  errorKind?: 'submission_not_found' | 'evaluation_format_error';
  /** The step whose grading this attempt reused: workspace, grader and task were unchanged (lib/sandbox/gradingKey.ts). */
  reusedFrom?: number;
}

export interface RunResult {
  runId: string;
  task: string;
  model: string;
  status: 'completed' | 'failed';
  exitStatus: string;
  steps: number;
  costUsd: number;
  attempts: Attempt[];
  bestAttempt: Attempt | null;
  submission: Attempt | null;
  /**
   * The builds (Worker Deployment build ids, sorted) whose workers executed the run's activities: one for a run
   * that stayed pinned, more for one moved to new code; [] for unversioned workers; absent in older results.
   */
  builds?: string[];
  /** `external` runs: the observation that ended the episode, for a client that attaches after the end. */
  gym?: GymObservation;
  /** What validate showed the agent (lib/run/protocol.ts); absent in results from before it was recorded (ours). */
  protocol?: Protocol;
}
