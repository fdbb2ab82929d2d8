import { resolve } from 'node:path';
import { detectKind, loadConfig, loadTask } from '../lib/config/load.js';
import { datasetsDir } from '../lib/home.js';
import { printJson, say } from './output.js';

/** Validate a task, dataset or model-registry YAML; a ConfigError propagates (exit 2). */
export function checkCommand(file: string, opts: { json?: boolean }): void {
  const kind = detectKind(file);
  if (kind === 'task') loadTask(file, datasetsDir);
  else loadConfig(kind, file);
  if (opts.json) printJson({ file: resolve(file), kind, valid: true });
  else say(`${file}: valid ${kind} config`);
}
