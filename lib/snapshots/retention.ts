import type { ObjectStore } from '../artifacts/objectStore.js';
import { CHUNKS_PREFIX, chunkKey, manifestSchema, stepOfKey } from './manifest.js';

/**
 * What snapshots keep and what goes:
 *
 * - Every manifest of a run is kept as long as the run's artifacts are: a restore needs the latest,
 *   and a fork at step N needs the one at or before N (manifest.ts `snapshotFor`). A manifest is
 *   small and shares its unchanged chunks with the one before, so keeping them all costs the chunks
 *   that changed, nothing more.
 * - A chunk is kept while any manifest, of any run, names it. Chunks no manifest names (a snapshot
 *   cut short before its manifest, a run whose artifacts were deleted) are deleted by `mlgym gc` in
 *   two passes: a pass notes them, a pass at least `graceMs` later deletes those still unnamed. A
 *   snapshot being written when gc runs has had its chunks noted at most; its manifest names them
 *   before the grace period is over.
 * - A run's whole-workspace archive (`snapshots/workspace.tar`, the format before manifests) goes once
 *   the run has a manifest.
 */

/** Where the sweep notes unnamed chunks between passes. */
export const SWEEP_STATE = 'gc/unreferenced-chunks.json';
/** Default grace between noting an unnamed chunk and deleting it. */
export const DEFAULT_GRACE_MS = 6 * 60 * 60 * 1000;

export interface SweepResult {
  /** Chunks in the store and those named by a manifest. */
  chunks: number;
  referenced: number;
  /** Deleted now (unnamed since at least the grace period). */
  deleted: number;
  /** Unnamed, noted; deleted by a later pass if still unnamed. */
  pending: number;
  /** Whole-workspace archives deleted (their run has a manifest). */
  legacyArchives: number;
}

/**
 * Decide which unnamed chunks to delete now and which to note (pure): `noted` maps a chunk key to
 * when it was first seen unnamed.
 */
export function sweepPlan(all: string[], referenced: Set<string>, noted: Record<string, number>, now: number, graceMs: number): { remove: string[]; keep: Record<string, number> } {
  const remove: string[] = [];
  const keep: Record<string, number> = {};
  for (const key of all) {
    if (referenced.has(key)) continue;
    const since = noted[key] ?? now;
    if (now - since >= graceMs) remove.push(key);
    else keep[key] = since;
  }
  return { remove, keep };
}

/** One gc pass over the snapshot store (see the rules above). */
export async function sweepSnapshots(store: ObjectStore, opts: { now?: number; graceMs?: number; dryRun?: boolean } = {}): Promise<SweepResult> {
  const now = opts.now ?? Date.now();
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  // Manifests first, chunks second: a chunk written in between is at worst noted, never deleted now.
  const runKeys = await store.list('runs/');
  const manifests = runKeys.filter((k) => stepOfKey(k) !== undefined);
  const referenced = new Set<string>();
  const withManifest = new Set<string>();
  for (const key of manifests) {
    const body = await store.get(key);
    if (!body) continue;
    const parsed = manifestSchema.safeParse(JSON.parse(body.toString('utf8')));
    // A manifest this code cannot read names chunks all the same: keep everything it mentions.
    const hashes = parsed.success
      ? parsed.data.entries.flatMap((e) => (e.type === 'file' ? e.chunks : []))
      : [...body.toString('utf8').matchAll(/"([0-9a-f]{64})"/g)].map((m) => m[1]!);
    for (const h of hashes) referenced.add(chunkKey(h));
    withManifest.add(key.slice(0, key.lastIndexOf('/snapshots/')));
  }
  const all = await store.list(CHUNKS_PREFIX);
  const state = await store.get(SWEEP_STATE);
  const noted = state ? ((JSON.parse(state.toString('utf8')) as { noted?: Record<string, number> }).noted ?? {}) : {};
  const { remove, keep } = sweepPlan(all, referenced, noted, now, graceMs);
  const legacy = runKeys.filter((k) => k.endsWith('/snapshots/workspace.tar') && withManifest.has(k.slice(0, k.lastIndexOf('/snapshots/'))));
  if (!opts.dryRun) {
    for (const key of [...remove, ...legacy]) await store.delete(key);
    await store.put(SWEEP_STATE, JSON.stringify({ at: new Date(now).toISOString(), noted: keep }));
  }
  return { chunks: all.length, referenced: referenced.size, deleted: remove.length, pending: Object.keys(keep).length, legacyArchives: legacy.length };
}
