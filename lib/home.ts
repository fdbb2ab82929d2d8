import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The repository root (this file lives in lib/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const tasksDir = join(repoRoot, 'tasks');
export const datasetsDir = join(repoRoot, 'datasets');
export const dockerDir = join(repoRoot, 'docker');
/** The workflows a worker of this checkout registers (bundled by lib/temporal/workflowBundle.ts). */
export const workflowsPath = join(repoRoot, 'workflows', 'index.ts');

/** State directory: dev-server database, artifact store, logs. */
export function mlgymHome(): string {
  return resolve(process.env.MLGYM_HOME ?? join(repoRoot, '.mlgym'));
}

/** Folders holding task folders: the repo's tasks/, then any in MLGYM_TASKS_PATH (colon-separated). */
export function taskDirs(): string[] {
  const extra = (process.env.MLGYM_TASKS_PATH ?? '').split(':').filter(Boolean).map((d) => resolve(d));
  return [tasksDir, ...extra];
}

/** The task.yaml of a task id (the first folder that has it; the repo's tasks/ path if none does). */
export function taskFile(taskId: string): string {
  const candidates = taskDirs().map((dir) => join(dir, taskId, 'task.yaml'));
  return candidates.find(existsSync) ?? candidates[0]!;
}
