import { totalSpend } from '../agent/ledger.js';
import type { Direction } from '../config/schema.js';
import { protocolOf, type Protocol } from '../run/protocol.js';
import type { Attempt } from '../run/types.js';
import type { RunRecords } from './records.js';
import { taskFacts } from './taskFacts.js';

export interface ReportStep {
  step: number;
  thought: string;
  /** The agent's action as written; "" for a step the harness took (the autosubmit after the last turn). */
  action: string;
  observation: string;
  costUsd: number;
  /** The validate or submit graded at this step. */
  attempt?: Attempt;
  /** Host queues on which the step's command ran again after the run lost its host (StepView.rerunOn). */
  rerunOn?: string[];
}

export interface Usage {
  tokensSent: number;
  tokensReceived: number;
  apiCalls: number;
}

/** One run as the report shows it: one of ours (artifact store) or one imported from an MLGym .traj. */
export interface ReportRun {
  /** Unique in the report: the run id (= workflow id) for our runs. */
  id: string;
  origin: 'store' | 'traj';
  task: string;
  model: string;
  status: 'completed' | 'failed' | 'running';
  /** MLGym's exit status (`submitted`, `autosubmission (max_steps)`, …); `running` while it goes. */
  exitStatus: string;
  stepCount: number;
  costUsd: number;
  usage: Usage;
  attempts: Attempt[];
  steps: ReportStep[];
  /** How the task is scored; unknown for a task that is neither ours nor one of MLGym's 13. */
  primaryMetric?: string;
  direction?: Direction;
  /** The baseline's score on the primary metric, when known. */
  baseline?: number;
  /** The run in the Temporal Web UI. */
  uiUrl?: string;
  /** Where it was read from: the run's folder or the .traj file. */
  source: string;
  /** Why the run has no records (its workflow failed to start or run). */
  error?: string;
  /** The builds that ran it (RunResult.builds, or the records of a run still going); absent when unrecorded. */
  builds?: string[];
  /** What validate showed its agent (lib/run/protocol.ts); absent for a run still going (its result says). */
  protocol?: Protocol;
  /** Its parent (a fork) and its forks; absent when it has neither. */
  family?: RunFamily;
  /** Its submission graded again by later evaluations, oldest first; absent when never rescored. */
  rescores?: ReportRescore[];
}

/** A run's family: the run it was forked from (its steps 0..atStep are that run's) and its own forks. */
export interface RunFamily {
  parent?: { runId: string; atStep: number };
  forks: { runId: string; atStep: number; model: string }[];
}

/** A rescore of the run's submission: the evaluation's version and the new score. */
export interface ReportRescore {
  evaluatorVersion: string;
  at: string;
  submission: Attempt | null;
}

/** What is known of a run apart from its records: from a benchmark's result. */
export interface RunHint {
  task?: string;
  model?: string;
  status?: 'completed' | 'failed';
  exitStatus?: string;
  error?: string;
  /** The benchmark's protocol, which all its runs share. */
  protocol?: Protocol;
}

/** A run from its records in the artifact store (with the benchmark's word for what its records lack). */
export function runFromRecords(records: RunRecords, source: string, hint: RunHint = {}): ReportRun {
  const { result, provision } = records;
  const task = result?.task ?? hint.task ?? 'unknown';
  // The task's config (or MLGym's table) only for what the run's own records lack.
  const facts = provision && records.mlgymResults ? undefined : taskFacts(task);
  const primaryMetric = provision?.primaryMetric ?? facts?.primaryMetric;
  const baselineMetrics = records.mlgymResults?.baseline ?? facts?.baseline;
  const byStep = new Map(records.attempts.map((a) => [a.step, a]));
  const steps: ReportStep[] = records.steps.map((s) => {
    const attempt = byStep.get(s.step);
    return attempt ? { ...s, attempt } : s;
  });
  const spend = totalSpend(records.calls);
  // The result's list once scored; before, what the workers recorded so far (none recorded: unknown).
  const builds = result?.builds ?? (records.builds?.length ? records.builds : undefined);
  const protocol = result ? protocolOf(result) : hint.protocol;
  return {
    id: records.runId,
    origin: 'store',
    task,
    model: result?.model ?? hint.model ?? 'unknown',
    status: result?.status ?? hint.status ?? 'running',
    exitStatus: result?.exitStatus ?? hint.exitStatus ?? 'running',
    stepCount: result?.steps ?? steps.filter((s) => s.action).length,
    costUsd: result?.costUsd ?? steps.reduce((sum, s) => sum + s.costUsd, 0),
    usage: { tokensSent: spend.promptTokens, tokensReceived: spend.completionTokens, apiCalls: spend.calls },
    attempts: records.attempts,
    steps,
    primaryMetric,
    direction: provision?.direction ?? facts?.direction,
    baseline: primaryMetric === undefined ? undefined : baselineMetrics?.[primaryMetric],
    source,
    ...(hint.error ? { error: hint.error } : {}),
    ...(builds ? { builds } : {}),
    ...(protocol ? { protocol } : {}),
    ...familyOf(records),
    ...(records.rescores?.length ? { rescores: records.rescores.map(({ evaluatorVersion, at, submission }) => ({ evaluatorVersion, at, submission })).sort((a, b) => a.at.localeCompare(b.at)) } : {}),
  };
}

function familyOf({ fork, forks = [] }: RunRecords): { family?: RunFamily } {
  if (!fork && !forks.length) return {};
  const children = forks.map(({ forkId, atStep, model }) => ({ runId: forkId, atStep, model })).sort((a, b) => a.atStep - b.atStep || a.runId.localeCompare(b.runId));
  return { family: { ...(fork ? { parent: { runId: fork.parentRunId, atStep: fork.atStep } } : {}), forks: children } };
}
