import { existsSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../config/load.js';
import type { ConfigKind, Direction } from '../config/schema.js';
import { isId, toId } from '../run/ids.js';
import { benchTaskVaried, directionByName, knownTaskMetrics, MLGYM_TASK_METRICS, type KnownMetric, type KnownTaskMetrics } from './mlgymTasks.js';

type Fields = Record<string, unknown>;

function isFields(data: unknown): data is Fields {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/**
 * Where an MLGym config sits: in an MLGym checkout (<root>/configs/tasks/<file>, paths relative to <root>),
 * or copied elsewhere (a folder of YAMLs, or a task folder: the YAML beside data/<task>/), where paths
 * are relative to the YAML's folder.
 */
export type MlgymLayout = 'checkout' | 'flat';

/** Where an MLGym task's metrics and directions came from (MLGym keeps them in code, not in the YAML). */
export type MetricSource =
  /** The YAML declares `metrics` and `primary_metric` (our two fields, added to an MLGym task). */
  | { from: 'yaml' }
  /** MLGym's table of the 13 MLGym-Bench tasks. */
  | { from: 'bench' }
  /** A variant of a bench task (its id followed by more, e.g. an L1 config): that task's metrics. */
  | { from: 'variant'; bench: string }
  /** Baseline metrics that are those of one bench task, its priority metric among them: that task's metrics. */
  | { from: 'same metrics'; bench: string }
  /** The only metric of baseline_scores, whose name says its direction (accuracy, rmse, …). */
  | { from: 'name' };

export interface MlgymTaskInfo {
  layout: MlgymLayout;
  /** The folder MLGym's paths are relative to: the checkout, or the YAML's folder. */
  root: string;
  metrics: MetricSource;
}

/** The root of the MLGym checkout holding `file`, when it sits where MLGym keeps configs: <root>/configs/<folder>/<file>. */
function checkoutRoot(file: string, folder: 'tasks' | 'datasets'): string | undefined {
  const dir = dirname(resolve(file));
  return basename(dir) === folder && basename(dirname(dir)) === 'configs' ? dirname(dirname(dir)) : undefined;
}

/** `target` relative to `from`, with forward slashes. */
function relativePath(from: string, target: string): string {
  return relative(from, target).split(sep).join('/') || '.';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The starter-code entry that puts a workspace path in place (`evaluate.py` ← data/x/evaluate.py), with what follows its name. */
function starterEntryOf(path: string, starter: string[]): { entry: string; rest: string } | undefined {
  const clean = path.replace(/^\.\//, '');
  for (const entry of starter) {
    const name = basename(entry);
    if (clean === name || clean.startsWith(`${name}/`)) return { entry, rest: clean.slice(name.length) };
  }
  return undefined;
}

/**
 * Is this parsed task YAML MLGym's? Ours always declare `metrics` and `primary_metric` and name their
 * evaluation script relative to the YAML. An MLGym task declares neither (MLGym keeps metrics in code), or,
 * when a user added them, still names its evaluation script as a workspace path that its starter code fills.
 */
export function isMlgymTask(data: unknown, file: string): data is Fields {
  if (!isFields(data)) return false;
  if (!('metrics' in data) && !('primary_metric' in data)) return true;
  if (checkoutRoot(file, 'tasks')) return true;
  const evaluation = strings(data.evaluation_paths)[0];
  if (evaluation === undefined || existsSync(resolve(dirname(resolve(file)), evaluation))) return false;
  return starterEntryOf(evaluation, strings(data.starter_code)) !== undefined;
}

/** What the translation makes of an MLGym task YAML (undefined for one of ours); throws a ConfigError as the translation does. */
export function mlgymTaskInfo(data: unknown, file: string): MlgymTaskInfo | undefined {
  if (!isMlgymTask(data, file)) return undefined;
  const root = checkoutRoot(file, 'tasks');
  return { layout: root ? 'checkout' : 'flat', root: root ?? dirname(resolve(file)), metrics: metricFields(data, file).source };
}

/**
 * A config as MLGym writes it, in the form our schemas validate. Our own configs pass unchanged; MLGym's
 * task YAMLs get the metric fields MLGym keeps in code, paths relative to the YAML, and MLGym's
 * submission check; MLGym's dataset names become folder names. Call it on the parsed YAML before validation.
 */
export function fromMlgym(kind: ConfigKind, data: unknown, file: string): unknown {
  if (kind === 'task') return isMlgymTask(data, file) ? fromMlgymTask(data, file) : data;
  if (kind === 'dataset' && isFields(data)) return fromMlgymDataset(data, file);
  return data;
}

function fromMlgymTask(data: Fields, file: string): Fields {
  const { fields } = metricFields(data, file);
  const out: Fields = { ...data, ...fields, ...mlgymPaths(data, file) };
  // MLGym's CSV tasks look for submission.csv in the workspace first: without it, submission_not_found.
  if ((data.task_entrypoint ?? 'CSVSubmissionTasks') === 'CSVSubmissionTasks' && !('submission_artifact' in data)) out.submission_artifact = 'submission.csv';
  return out;
}

/** A metric as YAML flow text, e.g. `{ name: r2, direction: max }`. */
function metricYaml(name: string, direction: Direction | undefined): string {
  const quoted = name === '<metric>' || /^[A-Za-z_][\w.-]*( [\w.-]+)*$/.test(name) ? name : JSON.stringify(name);
  return `{ name: ${quoted}, direction: ${direction ?? 'max or min'} }`;
}

function metricFields(data: Fields, file: string): { fields: Fields; source: MetricSource } {
  if ('metrics' in data || 'primary_metric' in data) return { fields: {}, source: { from: 'yaml' } };
  const id = typeof data.id === 'string' ? data.id : undefined;
  const baselineNames = Array.isArray(data.baseline_scores) && isFields(data.baseline_scores[0]) ? Object.keys(data.baseline_scores[0]) : [];
  const declare = (known: KnownTaskMetrics, extra: KnownMetric[] = []): Fields => ({ metrics: [known.primary, ...known.others, ...extra], primary_metric: known.primary.name });
  const bench = id === undefined ? undefined : knownTaskMetrics(id);
  if (bench) {
    // A baseline naming a metric the table does not: declared too when its name says how it goes (else the
    // schema names it as undeclared).
    const extra = baselineNames
      .filter((n) => ![bench.primary, ...bench.others].some((m) => m.name === n))
      .map((name) => ({ name, direction: directionByName(name) }))
      .filter((m): m is KnownMetric => m.direction !== undefined);
    return { fields: declare(bench, extra), source: { from: 'bench' } };
  }
  const varied = id === undefined ? undefined : benchTaskVaried(id);
  const variant = varied === undefined ? undefined : knownTaskMetrics(varied)!;
  if (variant && baselineNames.every((n) => [variant.primary, ...variant.others].some((m) => m.name === n))) {
    return { fields: declare(variant), source: { from: 'variant', bench: varied! } };
  }
  const alike = benchTasksWithMetrics(baselineNames);
  if (alike.length && alike.every((b) => knownTaskMetrics(b)!.primary.name === knownTaskMetrics(alike[0]!)!.primary.name)) {
    return { fields: declare(knownTaskMetrics(alike[0]!)!), source: { from: 'same metrics', bench: alike[0]! } };
  }
  const only = baselineNames.length === 1 ? baselineNames[0]! : undefined;
  const direction = only === undefined ? undefined : directionByName(only);
  if (only !== undefined && direction) return { fields: { metrics: [{ name: only, direction }], primary_metric: only }, source: { from: 'name' } };
  throw new ConfigError(file, [{ path: 'metrics', message: metricAdvice(id, baselineNames) }]);
}

/** The bench tasks that report every one of these (two or more) metrics, their priority metric among them. */
function benchTasksWithMetrics(names: string[]): string[] {
  if (names.length < 2) return [];
  return Object.entries(MLGYM_TASK_METRICS)
    .filter(([, known]) => names.includes(known.primary.name) && names.every((n) => [known.primary, ...known.others].some((m) => m.name === n)))
    .map(([id]) => id);
}

/** What to add to an MLGym task whose metrics we cannot tell, with the directions the names give away. */
function metricAdvice(id: string | undefined, baselineNames: string[]): string {
  const why =
    id === undefined
      ? 'this task has no id'
      : `"${id}" is not one of the 13 MLGym-Bench tasks whose metrics are known${baselineNames.length > 1 ? ', and its baseline_scores name several metrics' : ''}`;
  const names = baselineNames.length ? baselineNames : ['<metric>'];
  const metrics = names.map((n) => metricYaml(n, n === '<metric>' ? undefined : directionByName(n)));
  const unknown = names.filter((n) => n !== '<metric>' && !directionByName(n));
  const primary = names.length === 1 ? names[0]! : `<the one that ranks attempts: ${names.join(' or ')}>`;
  return (
    `an MLGym task YAML has no metric or direction (MLGym keeps them in code), and ${why}: ` +
    `add "metrics" (every metric its evaluation prints, with its direction) and "primary_metric", e.g. metrics: [${metrics.join(', ')}] and primary_metric: ${primary}` +
    (unknown.length ? `; for ${unknown.join(', ')} write max if higher is better, min if lower is` : '')
  );
}

/**
 * MLGym names starter code, requirements, samples and secret files relative to its checkout, dataset
 * configs relative to configs/, and evaluation scripts relative to the workspace (where the starter code
 * lands by base name). Ours are all relative to the task YAML.
 */
function mlgymPaths(data: Fields, file: string): Fields {
  const root = checkoutRoot(file, 'tasks');
  const taskDir = dirname(resolve(file));
  const base = root ?? taskDir;
  // MLGym copies starter code into the workspace by base name: a path from outside the task's folder lands
  // so here too (lib/config/load.ts:placedName), so a path inside it is written as one from outside.
  const fromRoot = (p: unknown) => (typeof p === 'string' ? outsidePath(taskDir, resolve(base, p)) : p);
  const starter = strings(data.starter_code);
  const out: Fields = {};
  if (Array.isArray(data.starter_code)) out.starter_code = data.starter_code.map(fromRoot);
  if (Array.isArray(data.dataset_configs)) out.dataset_configs = data.dataset_configs.map((p) => (typeof p === 'string' ? datasetConfigPath(p, taskDir, root) : p));
  for (const field of ['requirements_path', 'sample_submission', 'memory_path'] as const) if (field in data) out[field] = fromRoot(data[field]);
  if (Array.isArray(data.secret_files)) {
    out.secret_files = data.secret_files.map(fromRoot);
    // MLGym reserves secret_files for files the agent must not see, and leaves it unimplemented: here the grader alone gets them.
    if (!('private_files' in data)) out.private_files = out.secret_files;
  }
  if (Array.isArray(data.evaluation_paths)) {
    out.evaluation_paths = data.evaluation_paths.map((p) => {
      if (typeof p !== 'string') return p;
      const found = starterEntryOf(p, starter);
      return found ? `${fromRoot(found.entry) as string}${found.rest}` : fromRoot(p);
    });
  }
  return out;
}

/** `target` relative to `taskDir` as a path from outside it: data/x/a.py → ../<taskDir's name>/data/x/a.py. */
function outsidePath(taskDir: string, target: string): string {
  const path = relativePath(taskDir, target);
  return path.startsWith('../') || path === '..' ? path : `../${basename(taskDir)}/${path}`;
}

/**
 * A dataset config named as MLGym names it (relative to configs/): in a checkout, there; copied flat,
 * beside the task YAML under that path or by its base name. Unfound, the path as written (loading says so).
 */
function datasetConfigPath(path: string, taskDir: string, root: string | undefined): string {
  if (root) return relativePath(taskDir, resolve(root, 'configs', path));
  const candidates = [resolve(taskDir, path), resolve(taskDir, basename(path))];
  const found = candidates.find(existsSync);
  return found ? relativePath(taskDir, found) : path;
}

/** MLGym's dataset configs have none of our fields for prepared copies, private answers or fixtures. */
function isMlgymDataset(data: Fields): boolean {
  return !['local_path', 'private_path', 'prepare', 'fixture'].some((field) => field in data);
}

/** A dataset name as a folder name: MLGym's may hold spaces ("Fashion MNIST" → Fashion_MNIST). */
export function datasetFolderName(name: string): string {
  return toId(name.trim()).replace(/^_+|_+$/g, '') || 'dataset';
}

/**
 * An MLGym dataset: its name made a folder name, and in a checkout `data_path` (relative to the
 * checkout) becomes our `local_path`. Copied flat, `data_path` is already relative to the YAML.
 */
function fromMlgymDataset(data: Fields, file: string): Fields {
  if (!isMlgymDataset(data)) return data;
  const out: Fields = { ...data };
  if (typeof data.name === 'string' && !isId(data.name)) out.name = datasetFolderName(data.name);
  const root = checkoutRoot(file, 'datasets');
  if (root && data.is_local === true && typeof data.data_path === 'string') out.local_path = relativePath(dirname(resolve(file)), resolve(root, data.data_path));
  return Object.keys(out).some((k) => out[k] !== data[k]) || Object.keys(out).length !== Object.keys(data).length ? out : data;
}
