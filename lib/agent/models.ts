import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatPath, loadModelRegistry } from '../config/load.js';
import { ModelEntry } from '../config/schema.js';
import { repoRoot } from '../home.js';
import { toModelId } from '../run/ids.js';

export const registryFile = join(repoRoot, 'models', 'registry.yaml');

/** What a `--model` spec names: a built-in agent or an LLM with its registry entry. */
export type AgentSpec = { kind: 'baseline' } | { kind: 'external' } | { kind: 'replay'; file: string } | { kind: 'llm'; entry: ModelEntry };

/** A `--model` spec that names nothing usable. */
export class ModelSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelSpecError';
  }
}

const SPEC_FORMS = 'baseline, external, replay:<file>, openai:<model>[?<field>=<value>&…] or a registry id';

/** Defaults for `openai:<model>`: free, no tool calling, a common context window. */
const OPENAI_DEFAULTS = { price_input_per_mtok: 0, price_output_per_mtok: 0, context_window: 128_000, max_output_tokens: 4096, tool_calling: false };

/**
 * Resolve a `--model` spec: `baseline`, `external` (actions from a Gym client, docs/gym.md), `replay:<file>`, `openai:<model>` (OPENAI_BASE_URL and
 * OPENAI_API_KEY; registry fields may be given as query parameters, e.g.
 * `openai:gpt-4o?price_input_per_mtok=2.5&tool_calling=true`) or an id in the model registry.
 */
export function resolveAgentSpec(spec: string, file = registryFile): AgentSpec {
  if (spec === 'baseline') return { kind: 'baseline' };
  if (spec === 'external') return { kind: 'external' };
  if (spec.startsWith('replay:')) return { kind: 'replay', file: replayFile(spec.slice('replay:'.length)) };
  if (spec.startsWith('openai:')) return { kind: 'llm', entry: openaiEntry(spec.slice('openai:'.length)) };
  const { models } = loadModelRegistry(file);
  const entry = models.find((m) => m.id === spec);
  if (!entry) throw new ModelSpecError(`unknown model "${spec}"; expected ${SPEC_FORMS}. Registry ids (${file}): ${models.map((m) => m.id).join(', ')}`);
  return { kind: 'llm', entry };
}

/** A replay file, relative to the current directory or else the repository root. */
function replayFile(path: string): string {
  if (!path) throw new ModelSpecError('replay: expects a file, e.g. replay:runs/my.traj');
  const found = [resolve(path), resolve(repoRoot, path)].find(existsSync);
  if (!found) throw new ModelSpecError(`replay file "${path}" not found (looked in ${process.cwd()} and ${repoRoot})`);
  return found;
}

function openaiEntry(text: string): ModelEntry {
  const [model = '', query = ''] = text.split('?', 2);
  if (!model) throw new ModelSpecError('openai: expects a model name, e.g. openai:gpt-4o-mini');
  const overrides = Object.fromEntries([...new URLSearchParams(query)].map(([key, value]) => [key, parseValue(value)]));
  const parsed = ModelEntry.safeParse({
    ...OPENAI_DEFAULTS,
    id: `openai:${toModelId(model)}`,
    model,
    ...(process.env.OPENAI_BASE_URL ? { base_url: process.env.OPENAI_BASE_URL } : {}),
    ...overrides,
  });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : `${formatPath(issue.path)}: ${issue.message}`,
  );
  throw new ModelSpecError(`invalid model spec "openai:${text}": ${problems.join('; ')}`);
}

function parseValue(value: string): string | number | boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
}
