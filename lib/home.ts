import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/** The repository root (this file lives in lib/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const tasksDir = join(repoRoot, 'tasks');
export const datasetsDir = join(repoRoot, 'datasets');
export const dockerDir = join(repoRoot, 'docker');

/** State directory: dev-server database, artifact store, logs. */
export function mlgymHome(): string {
  return resolve(process.env.MLGYM_HOME ?? join(repoRoot, '.mlgym'));
}

export function taskFile(taskId: string): string {
  return join(tasksDir, taskId, 'task.yaml');
}
