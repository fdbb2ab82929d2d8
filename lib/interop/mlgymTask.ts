import { basename, dirname, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../config/load.js';
import type { ConfigKind } from '../config/schema.js';
import { knownTaskMetrics } from './mlgymTasks.js';

type Fields = Record<string, unknown>;

function isFields(data: unknown): data is Fields {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/**
 * A config as MLGym writes it, in the form our schemas validate. Our own configs pass unchanged; MLGym's
 * task YAMLs get the metric fields MLGym keeps in code, and files in an MLGym checkout get their paths
 * made relative to the YAML. Call it on the parsed YAML before validation.
 */
export function fromMlgym(kind: ConfigKind, data: unknown, file: string): unknown {
  if (!isFields(data)) return data;
  if (kind === 'task') return fromMlgymTask(data, file);
  if (kind === 'dataset') return fromMlgymDataset(data, file);
  return data;
}

/** An MLGym task: no `metrics` and no `primary_metric` (ours always has both). */
function fromMlgymTask(data: Fields, file: string): Fields {
  if ('metrics' in data || 'primary_metric' in data) return data;
  return { ...data, ...metricFields(data, file), ...checkoutPaths(data, file) };
}

function metricFields(data: Fields, file: string): Fields {
  const id = typeof data.id === 'string' ? data.id : undefined;
  const known = id === undefined ? undefined : knownTaskMetrics(id);
  if (known) return { metrics: [known.primary, ...known.others], primary_metric: known.primary.name };
  const baselineNames = Array.isArray(data.baseline_scores) && isFields(data.baseline_scores[0]) ? Object.keys(data.baseline_scores[0]) : [];
  const example = baselineNames[0] ?? '<metric>';
  throw new ConfigError(file, [
    {
      path: 'metrics',
      message:
        `an MLGym task YAML has no metric or direction, and ${id === undefined ? 'this task has no id' : `"${id}" is not one of the 13 MLGym-Bench tasks whose metric is known`}: ` +
        `add "metrics" (every metric of baseline_scores with its direction) and "primary_metric", e.g. metrics: [{ name: ${example}, direction: max }] and primary_metric: ${example}`,
    },
  ]);
}

/** The root of the MLGym checkout holding `file`, when it sits where MLGym keeps configs: <root>/configs/<folder>/<file>. */
function checkoutRoot(file: string, folder: 'tasks' | 'datasets'): string | undefined {
  const dir = dirname(resolve(file));
  return basename(dir) === folder && basename(dirname(dir)) === 'configs' ? dirname(dirname(dir)) : undefined;
}

/** `target` relative to `from`, with forward slashes. */
function relativePath(from: string, target: string): string {
  return relative(from, target).split(sep).join('/');
}

/**
 * MLGym names starter code, requirements and samples relative to the checkout, dataset configs relative to
 * configs/, and evaluation scripts relative to the workspace (where the starter code lands by base name).
 * Ours are all relative to the task YAML.
 */
function checkoutPaths(data: Fields, file: string): Fields {
  const root = checkoutRoot(file, 'tasks');
  if (!root) return {};
  const taskDir = dirname(resolve(file));
  const fromRoot = (p: unknown) => (typeof p === 'string' ? relativePath(taskDir, resolve(root, p)) : p);
  const fromConfigs = (p: unknown) => (typeof p === 'string' ? relativePath(taskDir, resolve(root, 'configs', p)) : p);
  const starter = Array.isArray(data.starter_code) ? data.starter_code : [];
  const out: Fields = {};
  if (Array.isArray(data.starter_code)) out.starter_code = starter.map(fromRoot);
  if (Array.isArray(data.dataset_configs)) out.dataset_configs = data.dataset_configs.map(fromConfigs);
  for (const field of ['requirements_path', 'sample_submission', 'memory_path'] as const) if (field in data) out[field] = fromRoot(data[field]);
  if (Array.isArray(data.evaluation_paths)) out.evaluation_paths = data.evaluation_paths.map((p) => (typeof p === 'string' ? fromWorkspace(p, starter, fromRoot) : p));
  return out;
}

/** A workspace path as the starter-code entry that puts it there (`evaluate.py` ← data/x/evaluate.py); else unchanged. */
function fromWorkspace(path: string, starter: unknown[], fromRoot: (p: unknown) => unknown): string {
  for (const entry of starter) {
    if (typeof entry !== 'string') continue;
    const name = basename(entry);
    if (path === name || path.startsWith(`${name}/`)) return `${fromRoot(entry) as string}${path.slice(name.length)}`;
  }
  return path;
}

/** An MLGym dataset in a checkout: `data_path` is relative to the checkout; our `local_path` points there. */
function fromMlgymDataset(data: Fields, file: string): Fields {
  const root = checkoutRoot(file, 'datasets');
  if (!root || data.is_local !== true || 'local_path' in data || typeof data.data_path !== 'string') return data;
  return { ...data, local_path: relativePath(dirname(resolve(file)), resolve(root, data.data_path)) };
}
