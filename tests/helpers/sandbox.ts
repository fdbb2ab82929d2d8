import { join } from 'node:path';
import { loadTask, type LoadedTask } from '../../lib/config/load.js';
import { datasetsDir, repoRoot } from '../../lib/home.js';

export const fixtureTasksDir = join(repoRoot, 'tests', 'fixtures', 'tasks');

/** Make the fixture tasks (tests/fixtures/tasks) resolvable by id, as MLGYM_TASKS_PATH does for users. */
export function useFixtureTasks(): void {
  process.env.MLGYM_TASKS_PATH = fixtureTasksDir;
}

export function fixtureTask(id: string): LoadedTask {
  return loadTask(join(fixtureTasksDir, id, 'task.yaml'), datasetsDir);
}
