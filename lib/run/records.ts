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
}

export interface StepView {
  step: number;
  thought: string;
  action: string;
  observation: string;
  costUsd: number;
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
      return { step, thought: turn?.thought ?? '', action: turn ? actionText(turn) : '', observation: obs?.observation ?? '', costUsd: turn?.costUsd ?? 0 };
    }),
  );
}

export async function readAttempts(store: ArtifactStore, runId: string): Promise<Attempt[]> {
  const files = await store.list(runId, 'attempts');
  const all = await Promise.all(files.map((f) => store.readJson<Attempt>(runId, `attempts/${f}`)));
  return all.filter((a): a is Attempt => a !== undefined);
}
