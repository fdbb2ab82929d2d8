import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { fromMlgym } from '../interop/mlgymTask.js';
import { schemas, type ConfigKind, type TaskConfig, type DatasetConfig, type ModelRegistry } from './schema.js';

/** Bad configuration: names the file, the field path and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${file}: invalid configuration\n` + problems.map((p) => `  - ${p.path || '(top level)'}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

function readYaml(file: string): unknown {
  if (!existsSync(file)) throw new ConfigError(file, [{ path: '', message: 'file not found' }]);
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new ConfigError(file, [{ path: '', message: `expected valid YAML${where}: ${(err as Error).message.split('\n')[0]}` }]);
  }
}

function validate<S extends z.ZodType>(schema: S, data: unknown, file: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new ConfigError(
    file,
    result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue, data) })),
  );
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  const got = valueAt(data, issue.path);
  const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 60);
  const message = issue.message.replace(/^Invalid input: /, '');
  return issue.code === 'custom' ? message : `${message} (got ${shown})`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), data);
}

export function loadConfig<K extends ConfigKind>(kind: K, file: string): z.output<(typeof schemas)[K]> {
  return validate(schemas[kind] as z.ZodType, fromMlgym(kind, readYaml(file), file), file) as z.output<(typeof schemas)[K]>;
}

/** Guess a config's kind from its content, for `mlgym check <file>`. */
export function detectKind(file: string): ConfigKind {
  const data = readYaml(file);
  if (data && typeof data === 'object') {
    if ('models' in data) return 'models';
    if ('task_entrypoint' in data || 'evaluation_paths' in data || 'starter_code' in data) return 'task';
    if ('data_path' in data) return 'dataset';
  }
  throw new ConfigError(file, [{ path: '', message: 'expected a task (evaluation_paths), dataset (data_path) or model registry (models)' }]);
}

export type LoadedTask = TaskConfig & { dir: string; file: string; datasets: (DatasetConfig & { file: string })[] };

/** Load a task and the dataset configs it names (relative to the task's folder, else the repo's datasets/). */
export function loadTask(file: string, datasetsDir: string): LoadedTask {
  const task = loadConfig('task', file);
  const dir = dirname(resolve(file));
  const datasets = task.dataset_configs.map((ref, i) => {
    const candidates = [resolve(dir, ref), resolve(datasetsDir, ref), resolve(datasetsDir, '..', ref)];
    const found = candidates.find(existsSync);
    if (!found) throw new ConfigError(file, [{ path: `dataset_configs[${i}]`, message: `expected an existing dataset config, looked in ${candidates.join(', ')}` }]);
    const dataset = loadConfig('dataset', found);
    const local = dataset.local_path ?? (dataset.is_local ? dataset.data_path : undefined);
    if (local && !existsSync(resolve(dirname(found), local))) {
      throw new ConfigError(found, [{ path: dataset.local_path ? 'local_path' : 'data_path', message: `expected local data at ${resolve(dirname(found), local)}; run \`npm run setup\` (scripts/prepare-data.sh) to prepare it` }]);
    }
    return { ...dataset, file: found };
  });
  for (const [field, paths] of [
    ['starter_code', task.starter_code],
    ['evaluation_paths', task.evaluation_paths],
    ['private_files', task.private_files],
  ] as const) {
    paths.forEach((p, i) => {
      if (!existsSync(resolve(dir, p))) throw new ConfigError(file, [{ path: `${field}[${i}]`, message: `expected a file in ${dir}, "${p}" does not exist` }]);
    });
  }
  return { ...task, dir, file: resolve(file), datasets };
}

export function loadModelRegistry(file: string): ModelRegistry {
  return loadConfig('models', file);
}
