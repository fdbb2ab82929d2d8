import type { ArtifactStore } from '../artifacts/store.js';
import type { Attempt, TurnResult } from './types.js';

/** Names of a run's records in the artifact store, keyed by (step, kind). */
export const recordName = {
  turn: (step: number) => `steps/${String(step).padStart(6, '0')}.turn.json`,
  observation: (step: number) => `steps/${String(step).padStart(6, '0')}.obs.json`,
  attempt: (step: number) => `attempts/${String(step).padStart(6, '0')}.json`,
  provision: 'provision.json',
  result: 'result.json',
  mlgymResults: 'results.json',
} as const;

export interface ObservationRecord {
  step: number;
  observation: string;
  exitCode?: number | null;
  timedOut?: boolean;
  outputFile?: string;
  /** The shell's position after the step, for the agent's prompt footer. */
  openFile?: string;
  workingDir?: string;
  /**
   * Seconds the action took to execute (the command in the container, a host tool, or the grader for
   * validate and submit): MLGym's per-step `execution_time`. Absent in records written before it was kept.
   */
  durationS?: number;
}

export interface StepView {
  step: number;
  thought: string;
  action: string;
  observation: string;
  costUsd: number;
  /** Seconds the action took to execute, when its record says (ObservationRecord.durationS). */
  durationS?: number;
}

/**
 * Run `execute` and return its observation record with the seconds it took (`durationS`), for the
 * writers of observation records (toolExec, validate, submit).
 */
export async function timedObservation<R extends ObservationRecord>(execute: () => Promise<R>, now: () => number = Date.now): Promise<R> {
  const started = now();
  const record = await execute();
  return { ...record, durationS: record.durationS ?? Math.max(0, (now() - started) / 1000) };
}

export function actionText(turn: TurnResult): string {
  const a = turn.action;
  return a.kind === 'command' ? a.command : a.kind === 'exit' ? a.reason : a.kind;
}

/** The trajectory as stored: each step's thought, action, observation and cost. */
export async function readTrajectory(store: ArtifactStore, runId: string): Promise<StepView[]> {
  const files = await store.list(runId, 'steps');
  const steps = [...new Set(files.map((f) => Number(f.split('.')[0])))].sort((a, b) => a - b);
  return Promise.all(
    steps.map(async (step) => {
      const turn = await store.readJson<TurnResult>(runId, recordName.turn(step));
      const obs = await store.readJson<ObservationRecord>(runId, recordName.observation(step));
      const view: StepView = { step, thought: turn?.thought ?? '', action: turn ? actionText(turn) : '', observation: obs?.observation ?? '', costUsd: turn?.costUsd ?? 0 };
      if (typeof obs?.durationS === 'number' && Number.isFinite(obs.durationS)) view.durationS = obs.durationS;
      return view;
    }),
  );
}

export async function readAttempts(store: ArtifactStore, runId: string): Promise<Attempt[]> {
  const files = await store.list(runId, 'attempts');
  const all = await Promise.all(files.map((f) => store.readJson<Attempt>(runId, `attempts/${f}`)));
  return all.filter((a): a is Attempt => a !== undefined);
}
