import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadTask } from '../lib/config/load.js';
import { datasetsDir, taskDirs, taskFile } from '../lib/home.js';
import { primaryMetricOf } from '../lib/scoring/direction.js';
import { printJson, say } from './output.js';

export function listTaskIds(): string[] {
  const ids = taskDirs().flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((d) => existsSync(join(dir, d, 'task.yaml'))) : []));
  return [...new Set(ids)].sort();
}

export function tasksCommand(opts: { json?: boolean }): void {
  const tasks = listTaskIds().map((id) => loadTask(taskFile(id), datasetsDir));
  const rows = tasks.map((t) => {
    const metric = primaryMetricOf(t);
    return { id: t.id, name: t.name, metric: metric.name, direction: metric.direction, baseline: t.baseline_scores[0]?.[metric.name] ?? null, entrypoint: t.task_entrypoint };
  });
  if (opts.json) return printJson({ tasks: rows });
  for (const r of rows) say(`${r.id.padEnd(32)} ${r.metric} (${r.direction}) baseline ${r.baseline ?? '-'}  ${r.name}`);
}
