import type { ArtifactStore } from '../artifacts/store.js';
import { rankBm25 } from './bm25.js';

/** The artifact-store calls the host tools need (so tests can pass a store on a temporary directory). */
export type JsonStore = Pick<ArtifactStore, 'readJson' | 'writeJson'>;

export interface MemoryContext {
  runId: string;
  store: JsonStore;
}

interface Memory {
  notes: string[];
}

const MEMORY_FILE = 'tools/memory.json';
const READ_LIMIT = 3;

async function load({ runId, store }: MemoryContext): Promise<Memory> {
  return (await store.readJson<Memory>(runId, MEMORY_FILE)) ?? { notes: [] };
}

/** Save a note. Saving the same text again is a no-op, so a retried step does not store it twice. */
export async function memoryWrite(text: string, ctx: MemoryContext): Promise<string> {
  if (!text) return 'memory_write needs the text to save, e.g. `memory_write lr 3e-4 beat 1e-3 on validation`.';
  const memory = await load(ctx);
  const existing = memory.notes.indexOf(text);
  if (existing >= 0) return `Already in memory as note ${existing + 1}.`;
  memory.notes.push(text);
  await ctx.store.writeJson(ctx.runId, MEMORY_FILE, memory);
  return `Saved to memory as note ${memory.notes.length}.`;
}

export async function memoryRead(query: string, ctx: MemoryContext): Promise<string> {
  if (!query) return 'memory_read needs a query, e.g. `memory_read learning rate`.';
  const { notes } = await load(ctx);
  if (!notes.length) return 'Your memory is empty: save notes with `memory_write <text>`.';
  const ranked = rankBm25(notes, query, READ_LIMIT);
  if (!ranked.length) return `No note in memory (${notes.length} in all) matches "${query}". Try other words.`;
  return [`The ${ranked.length} best of ${notes.length} notes for "${query}":`, ...ranked.map(({ index }) => `[note ${index + 1}] ${notes[index]}`)].join('\n');
}
