import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname, normalize, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { fromMlgym, mlgymTaskInfo, type MlgymTaskInfo } from '../interop/mlgymTask.js';
import { schemas, type ConfigKind, type DataVariant, type TaskConfig, type DatasetConfig, type ModelRegistry } from './schema.js';

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

/** How a config file is written: YAML (JSON is YAML too), or strict JSON. */
export type ConfigFormat = 'yaml' | 'json';

export interface ReadOptions {
  /** Default yaml. */
  format?: ConfigFormat;
  /** What the file should be, for the message when it does not parse (default "valid YAML" or "valid JSON"). */
  expected?: string;
}

/**
 * Read and parse a config file. A missing file or bad syntax is a ConfigError naming the file and what was
 * expected (with the line, for YAML).
 */
export function readConfigFile(file: string, { format = 'yaml', expected = `valid ${format.toUpperCase()}` }: ReadOptions = {}): unknown {
  if (!existsSync(file)) throw new ConfigError(file, [{ path: '', message: 'file not found' }]);
  try {
    const text = readFileSync(file, 'utf8');
    return format === 'yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new ConfigError(file, [{ path: '', message: `expected ${expected}${where}: ${(err as Error).message.split('\n')[0]}` }]);
  }
}

/**
 * Validate parsed config data against its schema. A ConfigError names `source` (the file), each bad field's
 * path, what was expected and what was there.
 */
export function validateConfig<S extends z.ZodType>(schema: S, data: unknown, source: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue, data) })),
  );
}

export interface LoadOptions extends ReadOptions {
  /** Turns the parsed data into what the schema reads (e.g. an MLGym config into ours). */
  convert?: (data: unknown) => unknown;
}

/** The config pipeline every config file goes through: read the file, parse it, validate it (ConfigError on each failure). */
export function loadConfigFile<S extends z.ZodType>(file: string, schema: S, { convert = (data) => data, ...read }: LoadOptions = {}): z.output<S> {
  return validateConfig(schema, convert(readConfigFile(file, read)), file);
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
  return loadConfigFile(file, schemas[kind] as z.ZodType, { convert: (data) => fromMlgym(kind, data, file) }) as z.output<(typeof schemas)[K]>;
}

/** Guess a config's kind from its content, for `mlgym check <file>`. */
export function detectKind(file: string): ConfigKind {
  const data = readConfigFile(file);
  if (data && typeof data === 'object') {
    if ('models' in data) return 'models';
    if ('task_entrypoint' in data || 'evaluation_paths' in data || 'starter_code' in data) return 'task';
    if ('data_path' in data) return 'dataset';
  }
  throw new ConfigError(file, [{ path: '', message: 'expected a task (evaluation_paths), dataset (data_path) or model registry (models)' }]);
}

/** A dataset as a run uses it: the folders of the chosen data variant, absolute. */
export type LoadedDataset = DatasetConfig & {
  file: string;
  /** What the workspace gets (absent: nothing local, the task fetches it). */
  dataDir?: string;
  /** What only the grader gets, next to the evaluation script. */
  privateDir?: string;
  /**
   * Where dataDir lands, relative to the workspace: data/<name> for our tasks; data for an MLGym task's
   * datasets, whose code reads data/<file> because MLGym copies a local dataset's folder to workspace/data.
   */
  workspaceDir: string;
  /** The name as the YAML writes it (an MLGym dataset's may hold spaces; `name` is then its folder-name form). */
  title: string;
};

export type LoadedTask = TaskConfig & {
  dir: string;
  file: string;
  data: DataVariant;
  datasets: LoadedDataset[];
  /** Set for a task written as MLGym writes them (its YAML translated on load; docs/mlgym-compat.md). */
  mlgym?: MlgymTaskInfo;
};

/** How a run uses a task: which data, and a GPU count other than the task's own. */
export interface TaskOptions {
  data?: DataVariant;
  /** Overrides resources.gpus; fixture runs default to 0, since fixtures are sized for a CPU. */
  gpus?: number;
  /**
   * Load even when files the task names are missing (`mlgym check` of an MLGym config copied without its
   * data/ folder); `missingTaskFiles` lists them. A run never sets it.
   */
  allowMissingFiles?: boolean;
}

/** A file the task names that is not there: the field naming it and its path. */
export interface MissingFile {
  field: string;
  path: string;
}

/** MLGym's `{dataset_docs}` in a task description: each dataset as `NAME:` and its description. */
export function datasetDocs(datasets: readonly Pick<LoadedDataset, 'title' | 'description'>[]): string {
  return datasets.map((d) => `${d.title}:\n${d.description.trim()}`).join('\n\n');
}

/**
 * Load a task and the dataset configs it names (relative to the task's folder, else the repo's
 * datasets/; an MLGym task's only relative to its folder), resolved for one data variant: with
 * `fixture`, the datasets' fixture folders and the baseline's fixture scores.
 */
export function loadTask(file: string, datasetsDir: string, options: TaskOptions = {}): LoadedTask {
  const raw = readConfigFile(file);
  const mlgym = mlgymTaskInfo(raw, file);
  const task = validateConfig(schemas.task, fromMlgym('task', raw, file), file) as TaskConfig;
  const data = options.data ?? 'real';
  const dir = dirname(resolve(file));
  const datasets = task.dataset_configs.map((ref, i) => {
    const candidates = mlgym ? [resolve(dir, ref)] : [resolve(dir, ref), resolve(datasetsDir, ref), resolve(datasetsDir, '..', ref)];
    const found = candidates.find(existsSync);
    if (!found) throw new ConfigError(file, [{ path: `dataset_configs[${i}]`, message: `expected an existing dataset config, looked in ${candidates.join(', ')}` }]);
    const written = readConfigFile(found);
    const dataset = validateConfig(schemas.dataset, fromMlgym('dataset', written, found), found) as DatasetConfig;
    const title = typeof (written as { name?: unknown } | null)?.name === 'string' ? (written as { name: string }).name : dataset.name;
    return datasetVariant({ ...dataset, file: found }, data, mlgym !== undefined, title);
  });
  const missing = missingTaskFiles({ ...task, dir });
  if (missing.length && !options.allowMissingFiles) {
    throw new ConfigError(file, [{ path: missing[0]!.field, message: `expected a file in ${dir}, "${missing[0]!.path}" does not exist` }]);
  }
  rejectCollisions(file, 'starter_code', task.starter_code);
  rejectCollisions(file, 'evaluation_paths', [...task.evaluation_paths, ...task.private_files]);
  const gpus = options.gpus ?? (data === 'fixture' ? 0 : task.resources.gpus);
  const scores = data === 'fixture' ? { baseline_scores: task.fixture_baseline_scores, baseline_noise: task.fixture_baseline_noise } : {};
  const requirements_path = gpus > 0 && task.gpu_requirements_path ? task.gpu_requirements_path : task.requirements_path;
  const description = task.description.includes('{dataset_docs}') ? task.description.replaceAll('{dataset_docs}', datasetDocs(datasets)) : task.description;
  return {
    ...task,
    ...scores,
    description,
    requirements_path,
    resources: { ...task.resources, gpus },
    dir,
    file: resolve(file),
    data,
    datasets,
    ...(mlgym ? { mlgym } : {}),
  };
}

/** The files a task names (starter code, evaluation and private files, requirements) that are not in its folder. */
export function missingTaskFiles(task: Pick<TaskConfig, 'starter_code' | 'evaluation_paths' | 'private_files' | 'requirements_path' | 'gpu_requirements_path'> & { dir: string }): MissingFile[] {
  const wanted: MissingFile[] = [
    ...(['starter_code', 'evaluation_paths', 'private_files'] as const).flatMap((field) => task[field].map((path, i) => ({ field: `${field}[${i}]`, path }))),
    ...(['requirements_path', 'gpu_requirements_path'] as const).flatMap((field) => (task[field] ? [{ field, path: task[field] }] : [])),
  ];
  return wanted.filter(({ path }) => !existsSync(resolve(task.dir, path)));
}

/**
 * Where a task file lands in the workspace, or beside the evaluation script: its path in the task
 * folder, or its base name when it lives outside it (code shared by several tasks, e.g. ../rlShared/src).
 */
export function placedName(path: string): string {
  const clean = normalize(path);
  return clean.startsWith('..') ? basename(clean) : clean;
}

function rejectCollisions(file: string, field: string, paths: string[]): void {
  const seen = new Map<string, string>();
  paths.forEach((p, i) => {
    const name = placedName(p);
    const other = seen.get(name);
    if (other !== undefined && other !== p) {
      throw new ConfigError(file, [{ path: `${field}[${i}]`, message: `expected distinct file names, "${p}" and "${other}" both land as ${name}` }]);
    }
    seen.set(name, p);
  });
}

function datasetVariant(dataset: DatasetConfig & { file: string }, data: DataVariant, mlgym: boolean, title: string): LoadedDataset {
  const at = (p: string | undefined) => (p === undefined ? undefined : resolve(dirname(dataset.file), p));
  const placed = { workspaceDir: mlgym ? 'data' : `data/${dataset.name}`, title };
  if (data === 'real') {
    return { ...dataset, dataDir: at(dataset.local_path ?? (dataset.is_local ? dataset.data_path : undefined)), privateDir: at(dataset.private_path), ...placed };
  }
  if (!dataset.fixture) throw new ConfigError(dataset.file, [{ path: 'fixture', message: 'expected a fixture (generator, local_path) for --data fixture' }]);
  return { ...dataset, dataDir: at(dataset.fixture.local_path), privateDir: at(dataset.fixture.private_path), ...placed };
}

/** Fail unless every data folder the run needs is there, saying how to get it. */
export function checkTaskData(task: LoadedTask): void {
  for (const d of task.datasets) {
    const fields = task.data === 'fixture' ? ['fixture.local_path', 'fixture.private_path'] : [d.local_path ? 'local_path' : 'data_path', 'private_path'];
    [d.dataDir, d.privateDir].forEach((folder, i) => {
      if (folder === undefined || existsSync(folder)) return;
      const how =
        task.data === 'fixture'
          ? 'run `npm run setup` (scripts/prepare-data.sh generates the fixtures)'
          : d.prepare
            ? `run \`mlgym prepare ${task.id}\` (downloads ${d.data_path} from Hugging Face), or use --data fixture`
            : 'run `npm run setup` (scripts/prepare-data.sh) to prepare it';
      throw new ConfigError(d.file, [{ path: fields[i]!, message: `expected ${task.data} data at ${folder}; ${how}` }]);
    });
  }
}

export function loadModelRegistry(file: string): ModelRegistry {
  return loadConfig('models', file);
}
