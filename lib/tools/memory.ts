import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { ArtifactStore } from '../artifacts/store.js';
import { isId } from '../run/ids.js';
import { rankBm25 } from './bm25.js';

/** The artifact-store calls the host tools need (so tests can pass a store on a temporary directory). */
export type JsonStore = Pick<ArtifactStore, 'readJson' | 'writeJson' | 'objects'>;

/**
 * The memory of a task with `memory_enabled`, which outlives its runs as MLGym's memory file does (MLGym copies
 * the task's `memory_path` into the container at the start of a run and back at its end, so every run of the
 * task reads what earlier runs wrote). Here the notes live in the artifact store under the task's id, where
 * every worker host reads them: each note is saved as it is written and every read sees all saved so far.
 */
export interface TaskMemory {
  taskId: string;
  /** The task's memory_path, absolute: notes already in it (MLGym's {texts: [...]}) are where the memory starts. */
  seedFile?: string;
}

export interface MemoryContext {
  runId: string;
  store: JsonStore;
  /** Absent: the task does not enable memory, and the memory tools say so. */
  taskMemory?: TaskMemory;
}

/** A note as stored: one object per note, named by a hash of its text, so a note saved twice is one object. */
interface StoredNote {
  text: string;
  runId: string;
  at: string;
}

const READ_LIMIT = 3;

/** The folder of a task's notes in the artifact store. */
export function taskMemoryPrefix(taskId: string): string {
  if (!isId(taskId)) throw new Error(`invalid task id "${taskId}"`);
  return `tasks/${taskId}/memory/`;
}

function noteKey(taskId: string, text: string): string {
  return `${taskMemoryPrefix(taskId)}${createHash('sha256').update(text).digest('hex').slice(0, 32)}.json`;
}

/** The texts of an MLGym memory file ({texts, embeddings, tags}); none when it is absent or unreadable. */
export function mlgymMemoryTexts(file: string): string[] {
  if (!existsSync(file)) return [];
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { texts?: unknown };
    return Array.isArray(data.texts) ? data.texts.filter((t): t is string => typeof t === 'string' && t.length > 0) : [];
  } catch {
    return [];
  }
}

/** The notes saved by the task's runs, in the order they were saved. */
async function storedNotes(store: JsonStore, taskId: string): Promise<string[]> {
  const keys = await store.objects.list(taskMemoryPrefix(taskId));
  const notes = await Promise.all(
    keys.map(async (key) => {
      const body = await store.objects.get(key);
      try {
        const note = JSON.parse(body?.toString('utf8') ?? '') as Partial<StoredNote>;
        return typeof note.text === 'string' ? [{ text: note.text, at: String(note.at ?? ''), key }] : [];
      } catch {
        return []; // not a note of ours
      }
    }),
  );
  return notes
    .flat()
    .sort((a, b) => a.at.localeCompare(b.at) || a.key.localeCompare(b.key))
    .map((n) => n.text);
}

/** The task's notes: those of its memory_path first, then those its runs saved; each text once. */
async function taskNotes(store: JsonStore, memory: TaskMemory): Promise<string[]> {
  const seed = memory.seedFile ? mlgymMemoryTexts(memory.seedFile) : [];
  return [...new Set([...seed, ...(await storedNotes(store, memory.taskId))])];
}

const DISABLED = "The memory tools are off for this task (MLGym's memory_enabled is not set in its config).";

/** Save a note. Saving the same text again is a no-op, so a retried step does not store it twice. */
export async function memoryWrite(text: string, ctx: MemoryContext): Promise<string> {
  if (!ctx.taskMemory) return DISABLED;
  if (!text) return 'memory_write needs the text to save, e.g. `memory_write lr 3e-4 beat 1e-3 on validation`.';
  const notes = await taskNotes(ctx.store, ctx.taskMemory);
  const existing = notes.indexOf(text);
  if (existing >= 0) return `Already in memory as note ${existing + 1}.`;
  const note: StoredNote = { text, runId: ctx.runId, at: new Date().toISOString() };
  await ctx.store.objects.put(noteKey(ctx.taskMemory.taskId, text), JSON.stringify(note));
  return `Saved to memory as note ${notes.length + 1}.`;
}

export async function memoryRead(query: string, ctx: MemoryContext): Promise<string> {
  if (!ctx.taskMemory) return DISABLED;
  if (!query) return 'memory_read needs a query, e.g. `memory_read learning rate`.';
  const notes = await taskNotes(ctx.store, ctx.taskMemory);
  if (!notes.length) return 'Your memory is empty: save notes with `memory_write <text>`.';
  const ranked = rankBm25(notes, query, READ_LIMIT);
  if (!ranked.length) return `No note in memory (${notes.length} in all) matches "${query}". Try other words.`;
  return [`The ${ranked.length} best of ${notes.length} notes for "${query}":`, ...ranked.map(({ index }) => `[note ${index + 1}] ${notes[index]}`)].join('\n');
}
