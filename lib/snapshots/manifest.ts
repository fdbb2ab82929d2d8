import { z } from 'zod';
import type { ObjectStore } from '../artifacts/objectStore.js';

/**
 * A workspace snapshot is a manifest (`runs/<runId>/snapshots/<step>.json`) that lists every entry of
 * the workspace in order (a folder before what it holds) with its metadata, and, for a regular file,
 * the content-addressed chunks that hold its bytes (`chunks/<aa>/<sha256>`, shared by every run and
 * fork). A chunk is stored once, whoever wrote it first; a snapshot costs its manifest plus the chunks
 * no earlier snapshot had. The task's read-only data (`data/`, root-owned) is never in a snapshot: a
 * restore copies it from the task again.
 */

/** Bytes per chunk: files are cut at fixed offsets, so an unchanged prefix (a log that grew) keeps its chunks. */
export const CHUNK_SIZE = 4 * 1024 * 1024;
export const MANIFEST_VERSION = 1;

const HASH = /^[0-9a-f]{64}$/;

const common = {
  /** Relative to the workspace, `/`-separated, never `.`/`..` parts. */
  path: z.string().min(1),
  mode: z.number().int().nonnegative(),
  uid: z.number().int().nonnegative(),
  gid: z.number().int().nonnegative(),
  /** Seconds since the epoch. */
  mtime: z.number(),
};

export const entrySchema = z.discriminatedUnion('type', [
  z.object({ ...common, type: z.literal('directory') }),
  z.object({
    ...common,
    type: z.literal('file'),
    size: z.number().int().nonnegative(),
    chunks: z.array(z.string().regex(HASH)),
    /** What the file looked like when its chunks were read (inode, size, mtime, ctime): unchanged means not read again. */
    stat: z.string(),
    /** Changed too close to the snapshot to trust `stat` next time (a write in the same clock tick): read again. */
    racy: z.boolean().optional(),
  }),
  z.object({ ...common, type: z.literal('symlink'), target: z.string() }),
  z.object({ ...common, type: z.literal('fifo') }),
]);
export type ManifestEntry = z.infer<typeof entrySchema>;
export type FileEntry = Extract<ManifestEntry, { type: 'file' }>;

export const snapshotStatsSchema = z.object({
  /** Entries and file bytes in the snapshot. */
  entries: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
  fileBytes: z.number().nonnegative(),
  /** Files (and their bytes) read from the container: new or changed since the previous snapshot. */
  readFiles: z.number().int().nonnegative(),
  readBytes: z.number().nonnegative(),
  /** Chunks (and their bytes) written to the store: the ones no snapshot had stored before. */
  newChunks: z.number().int().nonnegative(),
  newBytes: z.number().nonnegative(),
  /** The manifest's own size. */
  manifestBytes: z.number().int().nonnegative(),
  ms: z.number().nonnegative(),
});
export type SnapshotStats = z.infer<typeof snapshotStatsSchema>;

export const manifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  runId: z.string(),
  /** Steps the run had completed: the workspace before step `step` runs (after steps 0..step-1). */
  step: z.number().int().nonnegative(),
  createdAt: z.string(),
  chunkSize: z.number().int().positive(),
  /** The task's read-only data folder was left out; a restore copies it from the task. */
  taskData: z.boolean(),
  entries: z.array(entrySchema),
  /** The snapshot it was made against (unchanged files were taken from it), if any. */
  parent: z.number().int().nonnegative().nullable(),
  stats: snapshotStatsSchema.omit({ manifestBytes: true }),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const snapshotsPrefix = (runId: string) => `runs/${runId}/snapshots/`;
export const manifestKey = (runId: string, step: number) => `${snapshotsPrefix(runId)}${String(step).padStart(6, '0')}.json`;
export const chunkKey = (hash: string) => `chunks/${hash.slice(0, 2)}/${hash}`;
/** Where chunks live: shared by every run and fork. */
export const CHUNKS_PREFIX = 'chunks/';

const MANIFEST_NAME = /\/snapshots\/(\d+)\.json$/;

/** The step of a manifest key, or undefined for any other key. */
export function stepOfKey(key: string): number | undefined {
  const m = MANIFEST_NAME.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** The steps of a run's snapshots, ascending. */
export async function snapshotSteps(store: ObjectStore, runId: string): Promise<number[]> {
  const keys = await store.list(snapshotsPrefix(runId));
  return keys.flatMap((k) => stepOfKey(k) ?? []).sort((a, b) => a - b);
}

export async function readManifest(store: ObjectStore, runId: string, step: number): Promise<Manifest | undefined> {
  const body = await store.get(manifestKey(runId, step));
  if (!body) return undefined;
  const parsed = manifestSchema.safeParse(JSON.parse(body.toString('utf8')));
  if (!parsed.success) throw new Error(`snapshot ${manifestKey(runId, step)} is not a valid manifest: ${parsed.error.issues[0]?.message ?? 'unknown problem'}`);
  return parsed.data;
}

/** The run's latest snapshot, if it has one. */
export async function latestManifest(store: ObjectStore, runId: string): Promise<Manifest | undefined> {
  const steps = await snapshotSteps(store, runId);
  const last = steps.at(-1);
  return last === undefined ? undefined : readManifest(store, runId, last);
}

/** How to get the workspace as it was at a step (after `step` steps). */
export interface SnapshotChoice {
  /** The snapshot to restore, or null: start from the task's fresh workspace. */
  snapshot: number | null;
  /** The step asked for. */
  step: number;
  /** True when the snapshot is exactly at that step; else the recorded commands of `replay` must run again. */
  exact: boolean;
  /** The steps (0-based indices of recorded commands) to re-run after the restore, in order. */
  replay: number[];
}

/**
 * Which snapshot restores the workspace at `step` (after steps 0..step-1 ran): the latest one at or
 * before it, plus the recorded commands between. Every snapshot is kept (lib/snapshots/retention.ts),
 * so each snapshot step is exact and any other step costs re-running at most the steps since the
 * snapshot before it (10 with the workflow's snapshot interval).
 */
export function chooseSnapshot(steps: number[], step: number): SnapshotChoice {
  if (!Number.isInteger(step) || step < 0) throw new Error(`invalid step ${step}`);
  const before = steps.filter((s) => s <= step);
  const snapshot = before.length ? Math.max(...before) : null;
  const from = snapshot ?? 0;
  return { snapshot, step, exact: snapshot === step || step === 0, replay: Array.from({ length: step - from }, (_, i) => from + i) };
}

/** The snapshot that restores a run's workspace at `step` (see chooseSnapshot). */
export async function snapshotFor(runId: string, step: number, store: ObjectStore): Promise<SnapshotChoice> {
  return chooseSnapshot(await snapshotSteps(store, runId), step);
}
