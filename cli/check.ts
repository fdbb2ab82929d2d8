import { relative, resolve } from 'node:path';
import { detectKind, loadConfig, loadTask, missingTaskFiles, type LoadedTask } from '../lib/config/load.js';
import type { MetricSource } from '../lib/interop/mlgymTask.js';
import { datasetsDir } from '../lib/home.js';
import { printJson, say } from './output.js';

function metricSource(source: MetricSource): string {
  switch (source.from) {
    case 'yaml':
      return 'as the YAML declares them';
    case 'bench':
      return "from MLGym-Bench's table";
    case 'variant':
      return `of the MLGym-Bench task it varies, ${source.bench}`;
    case 'same metrics':
      return `of the MLGym-Bench task with the same metrics, ${source.bench}`;
    case 'name':
      return 'from the name of its only baseline metric';
  }
}

/**
 * Validate a task, dataset or model-registry YAML; a ConfigError propagates (exit 2). An MLGym task
 * config is valid without the files it names (a configs/ folder copied without data/): they are listed,
 * since a run needs them.
 */
export function checkCommand(file: string, opts: { json?: boolean }): void {
  const kind = detectKind(file);
  let task: LoadedTask | undefined;
  if (kind === 'task') {
    task = loadTask(file, datasetsDir, { allowMissingFiles: true });
    // Ours must be complete; an MLGym config may come without its data/ folder.
    if (!task.mlgym) task = loadTask(file, datasetsDir);
  } else loadConfig(kind, file);
  // An MLGym task's paths as MLGym writes them: relative to its checkout (or to the YAML's folder).
  const missing = task?.mlgym ? missingTaskFiles(task).map((m) => ({ ...m, path: relative(task!.mlgym!.root, resolve(task!.dir, m.path)) })) : [];
  const mlgym = task?.mlgym
    ? { layout: task.mlgym.layout, root: task.mlgym.root, metricsFrom: task.mlgym.metrics, metrics: task.metrics, primary_metric: task.primary_metric, missing }
    : undefined;
  if (opts.json) return printJson({ file: resolve(file), kind, valid: true, ...(mlgym ? { mlgym } : {}) });
  if (!task?.mlgym) return say(`${file}: valid ${kind} config`);
  const metrics = task.metrics.map((m) => `${m.name} (${m.direction}${m.name === task.primary_metric ? ', primary' : ''})`).join(', ');
  say(`${file}: valid task config, written as MLGym writes them (${task.mlgym.layout === 'checkout' ? 'in an MLGym checkout' : `paths relative to ${task.mlgym.root}`})`);
  say(`  metrics ${metricSource(task.mlgym.metrics)}: ${metrics}`);
  const where = task.mlgym.layout === 'checkout' ? 'the checkout lacks it' : "put the MLGym checkout's data/ folder beside the YAML";
  for (const m of missing) say(`  not there: ${m.field} ${m.path}; a run needs it (${where})`);
}
