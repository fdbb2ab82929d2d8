import { join } from 'node:path';
import { loadTask, type LoadedTask } from '../../lib/config/load.js';
import { datasetsDir, repoRoot } from '../../lib/home.js';

export const fixtureTasksDir = join(repoRoot, 'tests', 'fixtures', 'tasks');

export function fixtureTask(id: string): LoadedTask {
  return loadTask(join(fixtureTasksDir, id, 'task.yaml'), datasetsDir);
}
