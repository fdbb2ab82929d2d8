// Types of a benchmark, shared by the workflow, its activities and the CLI. Pure: imported by workflow code.
import type { DataVariant, Direction } from '../config/schema.js';
import type { Protocol } from '../run/protocol.js';
import type { Attempt } from '../run/types.js';

/** What a benchmark runs: every task × model × seed. A suite file or the `bench` flags make one. */
export interface BenchSpec {
  /** The suite's name; a suite's benchmark is compared with the previous one of the same suite. */
  suite?: string;
  tasks: string[];
  models: string[];
  /** Number of seeds: runs use seeds 0 … seeds-1. */
  seeds: number;
  maxSteps: number;
  /** At most this many runs at once. */
  concurrency: number;
  /** Dollar budget per run. */
  budgetUsd?: number;
  /** Dollar budget of the whole benchmark, shared by its runs (see lib/bench/budget.ts). */
  totalBudgetUsd?: number;
  /** Noise band per task on its primary metric, instead of the default (3 × baseline noise, else 1%). */
  noise: Record<string, number>;
  /** The data every run uses (default real); fixture runs are scored against the fixture baselines. */
  data?: DataVariant;
  /** What every run's validate shows (lib/run/protocol.ts); absent: ours. */
  protocol?: Protocol;
  /** GPUs per task, for the tasks that need any (filled in from the tasks' configs by checkSpec). */
  gpus?: Record<string, number>;
  /** Where runs needing GPUs go (GPU_TASK_QUEUE, set by checkSpec: workflow code cannot read the environment). */
  gpuTaskQueue?: string;
  /** Started by a Temporal Schedule (lib/bench/schedule.ts): its runs yield to other benchmarks' (lib/run/priority.ts). */
  scheduled?: boolean;
  /** Seconds each run's container work waits for its host before the run moves to another (RunInput.hostTimeoutS). */
  hostTimeoutS?: number;
  /** At most this many runs per workflow execution before it continues as new (default in workflows/benchmark.ts). */
  runsPerExecution?: number;
}

/** What a benchmark carries into its next execution: how far it got and its budget pool; run outcomes are stored records. */
export interface BenchProgress {
  /** The index (in benchJobs order) of the next run to start: every earlier one is finished and recorded. */
  next: number;
  pool?: BudgetPoolState;
}

/** A BudgetPool between executions (no run is in flight then). */
export interface BudgetPoolState {
  committed: number;
  unstarted: number;
}

export interface BenchJob {
  task: string;
  model: string;
  seed: number;
}

/** How one run of the benchmark ended; `reused` when an earlier execution of the benchmark had finished it. */
export interface BenchRun extends BenchJob {
  runId: string;
  reused: boolean;
  status: 'completed' | 'failed';
  exitStatus: string;
  attempts: Pick<Attempt, 'kind' | 'metrics'>[];
  error?: string;
}

/** A run with its scores on the task's primary metric: its best attempt and its submission. */
export interface ScoredRun extends Omit<BenchRun, 'attempts'> {
  bestAttempt: number | null;
  submission: number | null;
}

/** MLGym's per-task scores of a model: the best over its runs of each run's best attempt and of its submission. */
export interface TaskModelScore {
  task: string;
  model: string;
  metric: string;
  direction: Direction;
  bestAttempt: number | null;
  bestSubmission: number | null;
}

/** Area under the performance profile per method (the models and the baseline), for both of MLGym's variants. */
export interface Aup {
  /** T, the end of the τ grid shared by both variants. */
  tauMax: number;
  bestAttempt: Record<string, number>;
  bestSubmission: Record<string, number>;
}

export interface BenchScores {
  runs: ScoredRun[];
  scores: TaskModelScore[];
  aup: Aup;
}

/** A task × model whose best submission got worse than in the previous benchmark by more than the noise band. */
export interface Regression {
  task: string;
  model: string;
  metric: string;
  direction: Direction;
  previous: number;
  current: number | null;
  band: number;
}

export interface Comparison {
  previousBenchId: string | null;
  regressions: Regression[];
}

export interface BenchmarkResult extends BenchScores, Comparison {
  benchId: string;
  suite: string | null;
  /** The protocol of all its runs; absent in results from before it was recorded (ours). */
  protocol?: Protocol;
}
