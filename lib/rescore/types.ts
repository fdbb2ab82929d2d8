// What a rescore records and returns. Pure: imported by workflow code.
import type { BenchScores } from '../bench/types.js';
import type { Protocol } from '../run/protocol.js';
import type { Attempt, TaskRef } from '../run/types.js';

/** A run to re-grade, and the task as the run used it. */
export interface RescoreRunRef extends TaskRef {
  runId: string;
  model: string;
  seed: number;
}

export interface RescoreInput {
  /** The run or benchmark asked for. */
  target: string;
  runs: RescoreRunRef[];
  /** Every validated workspace too, not only the submitted one. */
  all: boolean;
  /** The protocol validated workspaces are graded under (default: each run's own). */
  protocol?: Protocol;
  /** A benchmark: its scores and AUP are recomputed from the new scores (its data variant). */
  bench?: { data?: TaskRef['data'] };
}

/** `rescores/<evaluatorVersion>.json` of a run: its attempts graded again by that evaluation. */
export interface RunRescore {
  runId: string;
  task: string;
  evaluatorVersion: string;
  at: string;
  /** The attempts graded again, with their new metrics (same steps and kinds as the originals). */
  attempts: Attempt[];
  /** The new score of the submitted workspace (null: it has none, or it failed to grade). */
  submission: Attempt | null;
  /** The run's own submission, as graded when it ran. */
  previousSubmission: Attempt | null;
}

export interface RescoreResult {
  target: string;
  runs: RunRescore[];
  /** A benchmark: its scores and AUP recomputed from the new scores. */
  scores?: BenchScores;
}

/** A run's rescore record: one per evaluation version, per coverage (`--all` or the submission alone) and per protocol. */
export function rescoreRecordName(evaluatorVersion: string, variant: { all: boolean; protocol?: Protocol } = { all: false }): string {
  const suffix = `${variant.all ? '.all' : ''}${variant.protocol === 'mlgym' ? '.mlgym' : ''}`;
  return `rescores/${evaluatorVersion.replace(/[^A-Za-z0-9_.-]/g, '_')}${suffix}.json`;
}
