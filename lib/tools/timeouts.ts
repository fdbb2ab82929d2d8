import type { TaskConfig } from '../config/schema.js';
import { programsOf } from './guard.js';
import { simpleCommands } from './shellCommands.js';

/**
 * Programs that train, evaluate or build: a command running one of them gets the task's
 * `training_timeout`; any other command gets the short `command_timeout`. Decided by the programs the
 * command runs, not by substrings of its text (`echo python` is short).
 *
 * A shell is not one of them by itself: `bash -c '<script>'` (and `sh -c`, `eval`) is decided by the
 * programs of its script, so a wrapper does not make every command a 30-minute one (`bash -c "ls"`
 * is short; a fork bomb in `bash -c` is short). A shell running a script file (`bash train.sh`) or
 * reading one from its stdin is long: the file may train.
 */
const LONG_RUNNING = /^(python[0-9.]*|ipython|torchrun|accelerate|deepspeed|pip[0-9.]*|make|cmake|ninja|Rscript|julia|node|java|cargo|go)$/;
const SHELL = /^(bash|sh|dash|zsh|ksh)$/;
/** Shell scripts nested deeper than this (`bash -c "bash -c ..."`) count as long. */
const MAX_DEPTH = 4;

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
const basename = (word: string) => word.slice(word.lastIndexOf('/') + 1);

/** Whether a script runs a long-running program (see LONG_RUNNING), looking into shell -c scripts and eval. */
export function isLongRunning(script: string, depth = 0): boolean {
  if (depth > MAX_DEPTH) return true;
  for (const command of simpleCommands(script)) {
    // The program this simple command runs, past assignments and wrappers (guard.ts decides that).
    const name = programsOf(command.words.map(quote).join(' '))[0];
    if (!name) continue;
    if (name === 'eval') {
      const at = command.words.findIndex((w) => w === 'eval');
      if (isLongRunning(command.words.slice(at + 1).join(' '), depth + 1)) return true;
      continue;
    }
    if (SHELL.test(name)) {
      const at = command.words.findIndex((w) => basename(w) === name);
      const args = command.words.slice(at + 1);
      const firstPlain = args.findIndex((a) => !a.startsWith('-'));
      const options = firstPlain < 0 ? args : args.slice(0, firstPlain);
      if (options.some((o) => /^-[a-z]*c[a-z]*$/.test(o))) {
        if (firstPlain >= 0 && isLongRunning(args[firstPlain]!, depth + 1)) return true;
        continue;
      }
      // A script file, or a script on its stdin (`bash < run.sh`, `cat run.sh | bash`).
      if (firstPlain >= 0 || command.stdinRedirected) return true;
      continue;
    }
    if (LONG_RUNNING.test(name)) return true;
  }
  return false;
}

export function commandTimeoutS(command: string, task: Pick<TaskConfig, 'training_timeout' | 'command_timeout'>): number {
  return isLongRunning(command) ? task.training_timeout : task.command_timeout;
}
