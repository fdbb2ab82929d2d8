import { join } from 'node:path';
import { placedName, type LoadedTask } from '../config/load.js';
import { buildTar, treeEntries } from './tar.js';
import { docker, hardenedHostConfig, isNotFound, labels, RUNTIME_DIR, WORKSPACE } from './docker.js';
import { volumeName } from './container.js';
import { execIn } from './exec.js';
import { leasedGpus } from './gpus.js';

export type Split = 'validation' | 'test';
export type Metrics = Record<string, number>;
export type GradeOutcome = { ok: true; metrics: Metrics } | { ok: false; error: string };

const GRADER_DIR = '/grader';

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

/**
 * Evaluate the run's workspace in a separate grader container: the workspace volume mounted read-only,
 * the task's evaluation script and private files copied in, no network. The agent's container never holds them.
 */
export async function gradeWorkspace(runId: string, step: number, image: string, task: LoadedTask, splits: Split[]): Promise<Record<Split, GradeOutcome | undefined>> {
  const name = `mlgym-grader-${runId}-${step}`;
  await docker().getContainer(name).remove({ force: true }).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
  const container = await docker().createContainer({
    name,
    Image: image,
    User: 'agent',
    Cmd: ['sleep', 'infinity'],
    Labels: { [labels.run]: runId, [labels.role]: 'grader', [labels.task]: task.id },
    HostConfig: {
      ...hardenedHostConfig(task.resources, leasedGpus(runId)),
      Mounts: [{ Type: 'volume', Source: volumeName(runId), Target: WORKSPACE, ReadOnly: true }],
      NetworkMode: 'none',
    },
  });
  try {
    const root = { uid: 0, gid: 0, readOnly: true };
    const files = [...new Set([...task.evaluation_paths, ...task.private_files])];
    const entries = [
      { name: 'grader', mode: 0o555, uid: 0, gid: 0 },
      ...files.flatMap((p) => treeEntries(join(task.dir, p), `grader/${placedName(p)}`, root)),
      // The data variant's hidden answers, side by side with the evaluation script.
      ...task.datasets.flatMap((d) => (d.privateDir ? treeEntries(d.privateDir, 'grader', root).filter((e) => e.name !== 'grader') : [])),
    ];
    await container.putArchive(await buildTar(entries), { path: '/' });
    await container.start();
    const outcomes: Record<Split, GradeOutcome | undefined> = { validation: undefined, test: undefined };
    if (task.submission_artifact) {
      const found = await execIn(container.id, ['test', '-e', `${WORKSPACE}/${task.submission_artifact}`]);
      if (found.exitCode !== 0) {
        const missing: GradeOutcome = { ok: false, error: `submission artefact ${task.submission_artifact} not found in the workspace` };
        for (const split of splits) outcomes[split] = missing;
        return outcomes;
      }
    }
    for (const split of splits) {
      const result = await execIn(container.id, ['timeout', String(task.training_timeout), 'python3', placedName(task.evaluation_paths[0]!)], {
        workdir: GRADER_DIR,
        env: [`MLGYM_SPLIT=${split}`, `MLGYM_DATA=${task.data}`, `MLGYM_SECRETS=${JSON.stringify(task.split_secrets[split])}`, `MLGYM_WORKSPACE=${WORKSPACE}`, `PYTHONPATH=${RUNTIME_DIR}`, 'PYTHONDONTWRITEBYTECODE=1', 'HOME=/tmp'],
      });
      outcomes[split] = parseEvaluation(result.stdout, result.stderr, result.exitCode, task);
    }
    return outcomes;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
