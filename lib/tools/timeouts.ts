import type { TaskConfig } from '../config/schema.js';
import { programsOf } from './guard.js';

/**
 * Programs that train, evaluate or build: a command running one of them gets the task's
 * `training_timeout`; any other command gets the short `command_timeout`. Decided by the programs the
 * command runs, not by substrings of its text (`echo python` is short).
 */
const LONG_RUNNING = /^(python[0-9.]*|ipython|torchrun|accelerate|deepspeed|pip[0-9.]*|make|cmake|ninja|bash|sh|Rscript|julia|node|java|cargo|go)$/;

export function commandTimeoutS(command: string, task: Pick<TaskConfig, 'training_timeout' | 'command_timeout'>): number {
  return programsOf(command).some((name) => LONG_RUNNING.test(name)) ? task.training_timeout : task.command_timeout;
}
