import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadTask, type LoadedTask } from '../../lib/config/load.js';
import { datasetsDir, repoRoot, taskFile } from '../../lib/home.js';

export interface HostEvaluation {
  exitCode: number | null;
  /** The last JSON line of its stdout ({} if none). */
  output: Record<string, unknown>;
  stdout: string;
  stderr: string;
}

/**
 * Run a task's evaluate.py on the host the way the grader runs it: cwd the task folder, a workspace
 * holding `files`, the split and only that split's secrets in the environment, the runtime helpers on
 * PYTHONPATH. The agent's code still runs in a process of its own and the submission is still read
 * from private copies, but under the caller's user (MLGYM_SANDBOX_UNISOLATED=1): the separate user,
 * the private files and the capabilities are the grader container's (tests/integration/redTeam).
 */
export function evaluateOnHost(taskId: string, files: Record<string, string>, split: 'validation' | 'test', env: Record<string, string> = {}, data: 'real' | 'fixture' = 'real'): HostEvaluation {
  const workspace = mkdtempSync(join(tmpdir(), 'mlgym-eval-'));
  const task = loadTask(taskFile(taskId), datasetsDir, { data });
  const secrets = task.split_secrets[split];
  const grader = graderFolder(task);
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(workspace, name), content);
    const run = spawnSync('python3', ['evaluate.py'], {
      cwd: grader ?? task.dir,
      env: {
        ...process.env,
        MLGYM_SPLIT: split,
        MLGYM_SECRETS: JSON.stringify(secrets),
        MLGYM_WORKSPACE: workspace,
        PYTHONPATH: join(repoRoot, 'docker', 'runtime'),
        PYTHONDONTWRITEBYTECODE: '1',
        MLGYM_SANDBOX_UNISOLATED: '1',
        ...env,
      },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const last = run.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
    return { exitCode: run.status, output: last ? (JSON.parse(last) as Record<string, unknown>) : {}, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
    if (grader) rmSync(grader, { recursive: true, force: true });
  }
}

/** Where a task whose datasets have private files (answers) is graded: like /grader, its evaluation
 * scripts and private files with the data variant's private files beside them; undefined for the others. */
function graderFolder(task: LoadedTask): string | undefined {
  const privateDirs = task.datasets.flatMap((d) => (d.privateDir ? [d.privateDir] : []));
  if (privateDirs.length === 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mlgym-grader-'));
  for (const file of [...task.evaluation_paths, ...task.private_files]) copyFileSync(join(task.dir, file), join(dir, basename(file)));
  for (const from of privateDirs) for (const name of readdirSync(from)) copyFileSync(join(from, name), join(dir, name));
  return dir;
}
