import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { LoadedTask } from '../config/load.js';
import { literatureEndpoint, literatureSearch, MAX_LITERATURE_COUNT, type LiteratureCache, type LiteratureResult } from './literature.js';
import { memoryRead, memoryWrite, type JsonStore, type TaskMemory } from './memory.js';
import { parsePdfUrl, type PdfCache, type PdfText } from './pdfUrl.js';
import { findToolCommand } from './registry.js';

export interface HostToolContext {
  runId: string;
  store: JsonStore;
  /** For a task with memory_enabled: its memory, which outlives the run (`hostToolTask`); absent, the memory tools are off. */
  taskMemory?: TaskMemory;
}

/** What the host tools need of the run's task: `runHostTool(command, { runId, store, ...hostToolTask(task) })`. */
export function hostToolTask(task: Pick<LoadedTask, 'id' | 'dir' | 'memory_path' | 'memory_enabled'>): Pick<HostToolContext, 'taskMemory'> {
  if (!task.memory_enabled) return {};
  return { taskMemory: { taskId: task.id, ...(task.memory_path ? { seedFile: resolve(task.dir, task.memory_path) } : {}) } };
}

/** A per-run cache of one tool's results in the artifact store, keyed by a hash of the request. */
function runCache<T>({ runId, store }: HostToolContext, folder: string): { get(key: string): Promise<T | undefined>; set(key: string, value: T): Promise<void> } {
  const name = (key: string) => `tools/${folder}/${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`;
  return {
    get: (key) => store.readJson<T>(runId, name(key)),
    set: async (key, value) => {
      await store.writeJson(runId, name(key), value);
    },
  };
}

/** The argument is the rest of the command, verbatim; quotes around all of it are dropped. */
function argument(text: string): string {
  const trimmed = text.trim();
  const quoted = /^(["'])([\s\S]*)\1$/.exec(trimmed);
  return quoted ? quoted[2]! : trimmed;
}

/**
 * literature_search's arguments, as MLGym's takes them: a query and an optional count of results. The
 * count is a whole number from 1 to 100 after a quoted query or a single word (`"graph networks" 5`,
 * `transformers 5`); any other text is all query (`attention 2017` asks for papers on it).
 */
export function literatureArguments(text: string): { query: string; count?: number } {
  const trimmed = text.trim();
  const m = /^(?:(["'])([\s\S]*)\1|(\S+))\s+(\d+)$/.exec(trimmed);
  const count = m ? Number(m[4]) : NaN;
  if (m && count >= 1 && count <= MAX_LITERATURE_COUNT) return { query: (m[2] ?? m[3])!.trim(), count };
  return { query: argument(trimmed) };
}

const HANDLERS: Record<string, (rest: string, ctx: HostToolContext) => Promise<string>> = {
  literature_search: (rest, ctx) => {
    const { query, count } = literatureArguments(rest);
    return literatureSearch(query, { ...literatureEndpoint(), cache: runCache<LiteratureResult>(ctx, 'literature') as LiteratureCache, count });
  },
  parse_pdf_url: (rest, ctx) => parsePdfUrl(argument(rest), { cache: runCache<PdfText>(ctx, 'pdf') as PdfCache }),
  memory_write: (rest, ctx) => memoryWrite(argument(rest), ctx),
  memory_read: (rest, ctx) => memoryRead(argument(rest), ctx),
};

/**
 * Run a host tool (one that needs the network or state outside the container): the observation, or
 * undefined when the command is not a host tool and should go to the container.
 */
export async function runHostTool(command: string, ctx: HostToolContext): Promise<string | undefined> {
  const m = /^\s*(\S+)(?:\s+([\s\S]*))?$/.exec(command);
  const tool = m ? findToolCommand(m[1]!) : undefined;
  if (!tool || tool.kind !== 'host') return undefined;
  return HANDLERS[tool.name]!(m![2] ?? '', ctx);
}
