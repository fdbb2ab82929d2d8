import { createHash } from 'node:crypto';
import { literatureEndpoint, literatureSearch, type LiteratureCache, type LiteratureResult } from './literature.js';
import { memoryRead, memoryWrite, type JsonStore } from './memory.js';
import { findToolCommand } from './registry.js';

export interface HostToolContext {
  runId: string;
  store: JsonStore;
}

function literatureCache({ runId, store }: HostToolContext): LiteratureCache {
  const name = (query: string) => `tools/literature/${createHash('sha256').update(query).digest('hex').slice(0, 16)}.json`;
  return {
    get: (query) => store.readJson<LiteratureResult>(runId, name(query)),
    set: async (query, result) => {
      await store.writeJson(runId, name(query), result);
    },
  };
}

const HANDLERS: Record<string, (argument: string, ctx: HostToolContext) => Promise<string>> = {
  literature_search: (query, ctx) => literatureSearch(query, { ...literatureEndpoint(), cache: literatureCache(ctx) }),
  memory_write: memoryWrite,
  memory_read: memoryRead,
};

/** The argument is the rest of the command, verbatim; quotes around all of it are dropped. */
function argument(text: string): string {
  const trimmed = text.trim();
  const quoted = /^(["'])([\s\S]*)\1$/.exec(trimmed);
  return quoted ? quoted[2]! : trimmed;
}

/**
 * Run a host tool (one that needs the network or state outside the container): the observation, or
 * undefined when the command is not a host tool and should go to the container.
 */
export async function runHostTool(command: string, ctx: HostToolContext): Promise<string | undefined> {
  const m = /^\s*(\S+)(?:\s+([\s\S]*))?$/.exec(command);
  const tool = m ? findToolCommand(m[1]!) : undefined;
  if (!tool || tool.kind !== 'host') return undefined;
  return HANDLERS[tool.name]!(argument(m![2] ?? ''), ctx);
}
