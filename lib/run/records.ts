import type { ArtifactStore } from '../artifacts/store.js';
import type { RebuiltWorkspace } from '../sandbox/rebuild.js';
import type { Attempt, TurnResult } from './types.js';

/** Names of a run's records in the artifact store, keyed by (step, kind). */
export const recordName = {
  turn: (step: number) => `steps/${String(step).padStart(6, '0')}.turn.json`,
  observation: (step: number) => `steps/${String(step).padStart(6, '0')}.obs.json`,
  attempt: (step: number) => `attempts/${String(step).padStart(6, '0')}.json`,
  provision: 'provision.json',
  /** The run's last grading (lib/sandbox/gradingKey.ts): an unchanged workspace is not evaluated twice. */
  grading: 'grading.json',
  /** The run's `index`-th move off a lost host (activities/migrate.ts). */
  migration: (index: number) => `migrations/${String(index).padStart(4, '0')}.json`,
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
  /** Host queues on which the step's command ran again, rebuilding the workspace after the run lost its host. */
  rerunOn?: string[];
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

/** The trajectory as stored: each step's thought, action, observation and cost, and where it ran again. */
export async function readTrajectory(store: ArtifactStore, runId: string): Promise<StepView[]> {
  const files = await store.list(runId, 'steps');
  const steps = [...new Set(files.map((f) => Number(f.split('.')[0])))].sort((a, b) => a - b);
  const reruns = rerunHosts(await readMigrations(store, runId));
  return Promise.all(
    steps.map(async (step) => {
      const turn = await store.readJson<TurnResult>(runId, recordName.turn(step));
      const obs = await store.readJson<ObservationRecord>(runId, recordName.observation(step));
      const view: StepView = { step, thought: turn?.thought ?? '', action: turn ? actionText(turn) : '', observation: obs?.observation ?? '', costUsd: turn?.costUsd ?? 0 };
      if (typeof obs?.durationS === 'number' && Number.isFinite(obs.durationS)) view.durationS = obs.durationS;
      const rerunOn = reruns.get(step);
      if (rerunOn) view.rerunOn = rerunOn;
      return view;
    }),
  );
}

/**
 * A run's move off a lost host (`migrations/<index>.json`), written once the new host's workspace is rebuilt: the
 * run's snapshot restored and its recorded commands since then re-run, so it holds the workspace after `step` steps.
 */
export interface MigrationRecord extends RebuiltWorkspace {
  index: number;
  /** Steps done when the run moved: the rebuilt workspace is the one after them. */
  step: number;
  /** The lost host's task queue, and the new one. */
  from: string;
  to: string;
  at: string;
}

export async function readMigrations(store: ArtifactStore, runId: string): Promise<MigrationRecord[]> {
  const files = await store.list(runId, 'migrations');
  const all = await Promise.all(files.map((f) => store.readJson<MigrationRecord>(runId, `migrations/${f}`)));
  return all.filter((m): m is MigrationRecord => m !== undefined);
}

/** For each step whose command ran again after a move, the host queues it ran on again (in order of the moves). */
export function rerunHosts(migrations: MigrationRecord[]): Map<number, string[]> {
  const hosts = new Map<number, string[]>();
  for (const m of [...migrations].sort((a, b) => a.index - b.index)) {
    for (const r of m.replayed) hosts.set(r.step, [...(hosts.get(r.step) ?? []), m.to]);
  }
  return hosts;
}

export async function readAttempts(store: ArtifactStore, runId: string): Promise<Attempt[]> {
  const files = await store.list(runId, 'attempts');
  const all = await Promise.all(files.map((f) => store.readJson<Attempt>(runId, `attempts/${f}`)));
  return all.filter((a): a is Attempt => a !== undefined);
}
