import { join } from 'node:path';
import { placedName, type LoadedTask } from '../config/load.js';
import { buildTar, treeEntries, type TarEntry } from './tar.js';
import { docker, hardenedHostConfig, isNotFound, labels, RUNTIME_DIR } from './docker.js';
import { volumeName } from './container.js';
import { execIn } from './exec.js';
import { leasedGpus } from './gpus.js';

export type Split = 'validation' | 'test';
export type Metrics = Record<string, number>;
export type GradeOutcome = { ok: true; metrics: Metrics } | { ok: false; error: string };

const GRADER_DIR = '/grader';
/** The evaluator's own folder (mode 0700): the workspace mount, the copies of the submission, its home and temporary files. */
const PRIVATE_DIR = '/srv/mlgym';
/** Where the grader mounts the run's workspace (read-only); only the evaluator can reach it. */
export const GRADER_WORKSPACE = `${PRIVATE_DIR}/workspace`;
/** The unprivileged user the agent's code runs as inside the grader (docker/runtime/sandbox.py); no account needed. */
export const SANDBOX_UID = 61000;
/** The capabilities the evaluator keeps (it runs as root): to start the agent's code as SANDBOX_UID, and to read the agent's files with the agent's rights. */
export const GRADER_CAPABILITIES = ['SETUID', 'SETGID'];

/**
 * The grader's files as they are placed: the evaluation script and private files in /grader, the
 * data variant's hidden answers beside them, all owned by root and readable by root alone (dirs 0700,
 * files 0600); the evaluator's private folder with its home and temporary folder.
 */
export function graderEntries(task: LoadedTask): TarEntry[] {
  const root = { uid: 0, gid: 0, readOnly: true };
  const files = [...new Set([...task.evaluation_paths, ...task.private_files])];
  const placed = [
    ...files.flatMap((p) => treeEntries(join(task.dir, p), `grader/${placedName(p)}`, root)),
    // The data variant's hidden answers, side by side with the evaluation script.
    ...task.datasets.flatMap((d) => (d.privateDir ? treeEntries(d.privateDir, 'grader', root).filter((e) => e.name !== 'grader') : [])),
  ];
  const own = (e: TarEntry): TarEntry => ({ ...e, uid: 0, gid: 0, mode: e.content === undefined ? 0o700 : e.mode & 0o111 ? 0o700 : 0o600 });
  const dir = (name: string): TarEntry => ({ name, mode: 0o700, uid: 0, gid: 0 });
  return [dir('grader'), ...placed.map(own), dir(PRIVATE_DIR.slice(1)), dir(`${PRIVATE_DIR.slice(1)}/home`), dir(`${PRIVATE_DIR.slice(1)}/tmp`)];
}

/** The grader's files (graderEntries) as the archive copied into each grader container. */
export function graderArchive(task: LoadedTask): Promise<Buffer> {
  return buildTar(graderEntries(task));
}

/** The evaluator's environment for one split: its secrets, where things are, the sandbox's user and memory. */
export function evaluatorEnv(task: LoadedTask, split: Split): string[] {
  return [
    `MLGYM_SPLIT=${split}`,
    `MLGYM_DATA=${task.data}`,
    `MLGYM_SECRETS=${JSON.stringify(task.split_secrets[split])}`,
    `MLGYM_WORKSPACE=${GRADER_WORKSPACE}`,
    `MLGYM_GRADER_STAGE=${PRIVATE_DIR}/stage`,
    `MLGYM_SANDBOX_UID=${SANDBOX_UID}`,
    // The agent's process may use half the grader's memory; the evaluator keeps the rest.
    `MLGYM_SANDBOX_MEMORY_MB=${Math.max(256, Math.floor(task.resources.memory_mb / 2))}`,
    `PYTHONPATH=${RUNTIME_DIR}`,
    'PYTHONDONTWRITEBYTECODE=1',
    `HOME=${PRIVATE_DIR}/home`,
    `TMPDIR=${PRIVATE_DIR}/tmp`,
  ];
}

/** Parse an evaluation's output: the last line that is a JSON object of finite numbers holding the primary metric. */
export function parseEvaluation(stdout: string, stderr: string, exitCode: number, task: Pick<LoadedTask, 'primary_metric'>): GradeOutcome {
  const line = stdout.trim().split('\n').reverse().find((l) => l.trim().startsWith('{'));
  let parsed: unknown;
  try {
    parsed = line === undefined ? undefined : JSON.parse(line);
  } catch {
    return { ok: false, error: `the evaluation printed malformed JSON: ${line!.slice(0, 200)}` };
  }
  if (parsed && typeof parsed === 'object' && 'error' in parsed) return { ok: false, error: String((parsed as { error: unknown }).error) };
  if (exitCode === 124) return { ok: false, error: 'the evaluation timed out' };
  if (exitCode !== 0) return { ok: false, error: `the evaluation failed (exit ${exitCode}): ${(stderr || stdout).trim().slice(-1500)}` };
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, error: 'the evaluation printed no JSON metrics' };
  const metrics: Metrics = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, error: `metric "${name}" is not a finite number: ${JSON.stringify(value)}` };
    metrics[name] = value;
  }
  if (!(task.primary_metric in metrics)) return { ok: false, error: `the evaluation did not report the primary metric "${task.primary_metric}"` };
  return { ok: true, metrics };
}

/** Copies the workspace's artifact argv[1] as data (docker/runtime/grading.py `submitted`) and names the copy on stderr. */
const COPY_SUBMISSION = 'import sys, grading; sys.stderr.write("\\n" + grading.submitted(sys.argv[1]))';

/**
 * The arguments MLGym passes a CSV task's evaluation script (`--submission_file <csv>`), for a task written as
 * MLGym writes them: its own evaluate.py expects them. The file named is the evaluator's private copy of the
 * submission (regular files only, taken with the agent's rights), never the workspace's, which could be a link
 * to the grader's secrets. Our own tasks' scripts read the submission through grading.py and get no arguments.
 */
async function mlgymEvaluationArgs(containerId: string, task: LoadedTask): Promise<{ args: string[] } | { refused: GradeOutcome }> {
  if (!task.mlgym || task.task_entrypoint !== 'CSVSubmissionTasks' || !task.submission_artifact) return { args: [] };
  const env = [`MLGYM_WORKSPACE=${GRADER_WORKSPACE}`, `MLGYM_GRADER_STAGE=${PRIVATE_DIR}/stage`, `PYTHONPATH=${RUNTIME_DIR}`, 'PYTHONDONTWRITEBYTECODE=1', `HOME=${PRIVATE_DIR}/home`, `TMPDIR=${PRIVATE_DIR}/tmp`];
  const copied = await execIn(containerId, ['python3', '-c', COPY_SUBMISSION, task.submission_artifact], { user: '0:0', env });
  if (copied.exitCode !== 0) return { refused: parseEvaluation(copied.stdout, copied.stderr, copied.exitCode, task) };
  return { args: ['--submission_file', copied.stderr.trim().split('\n').at(-1)!] };
}

/**
 * Evaluate the run's workspace in a separate grader container: the workspace volume mounted read-only
 * where only the evaluator can reach it, the task's evaluation script and private files copied in and
 * readable by root alone, no network. The evaluator runs as root with only CAP_SETUID and CAP_SETGID
 * (no new privileges): it reads the submission through private copies (regular files only) and runs
 * any of the agent's code as SANDBOX_UID, with no capabilities, in a process of its own
 * (docker/runtime/sandbox.py). The agent's container never holds any of the grader's files. `files` is
 * graderArchive(task), when the caller has it already.
 */
export async function gradeWorkspace(
  runId: string,
  step: number,
  image: string,
  task: LoadedTask,
  splits: Split[],
  files?: Buffer,
): Promise<Record<Split, GradeOutcome | undefined>> {
  const name = `mlgym-grader-${runId}-${step}`;
  await docker().getContainer(name).remove({ force: true }).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
  const hardened = hardenedHostConfig(task.resources, leasedGpus(runId));
  const container = await docker().createContainer({
    name,
    Image: image,
    User: '0:0',
    Cmd: ['sleep', 'infinity'],
    Labels: { [labels.run]: runId, [labels.role]: 'grader', [labels.task]: task.id },
    HostConfig: {
      ...hardened,
      CapAdd: GRADER_CAPABILITIES,
      Mounts: [{ Type: 'volume', Source: volumeName(runId), Target: GRADER_WORKSPACE, ReadOnly: true }],
      NetworkMode: 'none',
    },
  });
  try {
    await container.putArchive(files ?? (await graderArchive(task)), { path: '/' });
    await container.start();
    // The mount point's parent must stay private, whatever the engine did when it created the mount point.
    await execIn(container.id, ['chmod', '0700', PRIVATE_DIR], { user: '0:0' });
    const outcomes: Record<Split, GradeOutcome | undefined> = { validation: undefined, test: undefined };
    if (task.submission_artifact) {
      const found = await execIn(container.id, ['python3', `${RUNTIME_DIR}/grading.py`, 'present', task.submission_artifact], {
        user: '0:0',
        env: [`MLGYM_WORKSPACE=${GRADER_WORKSPACE}`, `PYTHONPATH=${RUNTIME_DIR}`, 'PYTHONDONTWRITEBYTECODE=1'],
      });
      if (found.exitCode !== 0) {
        const missing: GradeOutcome =
          found.exitCode === 1
            ? { ok: false, error: `submission artefact ${task.submission_artifact} not found in the workspace` }
            : { ok: false, error: `grader error: checking the workspace failed (exit ${found.exitCode}): ${found.stderr.trim().slice(-500)}` };
        for (const split of splits) outcomes[split] = missing;
        return outcomes;
      }
    }
    const args = await mlgymEvaluationArgs(container.id, task);
    if ('refused' in args) {
      for (const split of splits) outcomes[split] = args.refused;
      return outcomes;
    }
    for (const split of splits) {
      const result = await execIn(container.id, ['timeout', '--kill-after=10', String(task.training_timeout), 'python3', placedName(task.evaluation_paths[0]!), ...args.args], {
        user: '0:0',
        workdir: GRADER_DIR,
        env: evaluatorEnv(task, split),
      });
      outcomes[split] = parseEvaluation(result.stdout, result.stderr, result.exitCode, task);
    }
    return outcomes;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
