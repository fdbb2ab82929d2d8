import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../artifacts/store.js';
import { mlgymHome } from '../home.js';
import { isId } from '../run/ids.js';
import { rankBm25 } from './bm25.js';

/** The artifact-store calls the host tools need (so tests can pass a store on a temporary directory). */
export type JsonStore = Pick<ArtifactStore, 'readJson' | 'writeJson'>;

/**
 * A task whose memory outlives its runs, as MLGym's memory file does: MLGym copies the task's
 * `memory_path` into the container at the start of a run and back at its end, so every run of the task
 * reads what earlier runs wrote.
 */
export interface TaskMemory {
  taskId: string;
  /** The task's memory_path, absolute: notes already in it (MLGym's {texts: [...]}) are where the memory starts. */
  seedFile?: string;
  /** Where the task's notes are kept (default MLGYM_HOME/memory): <dir>/<taskId>.jsonl, appended to. */
  dir?: string;
}

export interface MemoryContext {
  runId: string;
  store: JsonStore;
  /** Present for a task with a memory_path: the memory is the task's, across runs; else the run's own. */
  taskMemory?: TaskMemory;
}

interface Memory {
  notes: string[];
}

const MEMORY_FILE = 'tools/memory.json';
const READ_LIMIT = 3;

/** Where the notes of tasks with a memory file are kept. */
export function taskMemoryDir(): string {
  return join(mlgymHome(), 'memory');
}

function taskMemoryFile(memory: TaskMemory): string {
  if (!isId(memory.taskId)) throw new Error(`invalid task id "${memory.taskId}"`);
  return join(memory.dir ?? taskMemoryDir(), `${memory.taskId}.jsonl`);
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

/** Each text once, in the order first seen. */
function distinct(texts: string[]): string[] {
  return [...new Set(texts)];
}

async function taskNotes(memory: TaskMemory): Promise<string[]> {
  const seed = memory.seedFile ? mlgymMemoryTexts(memory.seedFile) : [];
  let lines: string[] = [];
  try {
    lines = (await readFile(taskMemoryFile(memory), 'utf8')).split('\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const written = lines.flatMap((line) => {
    try {
      const { text } = JSON.parse(line) as { text?: unknown };
      return typeof text === 'string' ? [text] : [];
    } catch {
      return []; // an empty line, or one cut short by a crash
    }
  });
  return distinct([...seed, ...written]);
}

async function load(ctx: MemoryContext): Promise<Memory> {
  if (ctx.taskMemory) return { notes: await taskNotes(ctx.taskMemory) };
  return (await ctx.store.readJson<Memory>(ctx.runId, MEMORY_FILE)) ?? { notes: [] };
}

/**
 * Add a note. A task's memory is a file of JSON lines that runs append to (one write each, so runs of the
 * task at the same time do not lose each other's notes); a run's own lives in the artifact store.
 */
async function add(ctx: MemoryContext, memory: Memory, text: string): Promise<void> {
  if (ctx.taskMemory) {
    const file = taskMemoryFile(ctx.taskMemory);
    await mkdir(join(file, '..'), { recursive: true });
    await appendFile(file, `${JSON.stringify({ text, runId: ctx.runId, at: new Date().toISOString() })}\n`);
    return;
  }
  await ctx.store.writeJson(ctx.runId, MEMORY_FILE, { notes: [...memory.notes, text] });
}

/** Save a note. Saving the same text again is a no-op, so a retried step does not store it twice. */
export async function memoryWrite(text: string, ctx: MemoryContext): Promise<string> {
  if (!text) return 'memory_write needs the text to save, e.g. `memory_write lr 3e-4 beat 1e-3 on validation`.';
  const memory = await load(ctx);
  const existing = memory.notes.indexOf(text);
  if (existing >= 0) return `Already in memory as note ${existing + 1}.`;
  await add(ctx, memory, text);
  return `Saved to memory as note ${memory.notes.length + 1}.`;
}

export async function memoryRead(query: string, ctx: MemoryContext): Promise<string> {
  if (!query) return 'memory_read needs a query, e.g. `memory_read learning rate`.';
  const { notes } = await load(ctx);
  if (!notes.length) return 'Your memory is empty: save notes with `memory_write <text>`.';
  const ranked = rankBm25(notes, query, READ_LIMIT);
  if (!ranked.length) return `No note in memory (${notes.length} in all) matches "${query}". Try other words.`;
  return [`The ${ranked.length} best of ${notes.length} notes for "${query}":`, ...ranked.map(({ index }) => `[note ${index + 1}] ${notes[index]}`)].join('\n');
}
