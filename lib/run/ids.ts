import { randomBytes } from 'node:crypto';

/** A readable, unique run id (also the workflow id): run-<task>-<model>-<seed>-<short id>. */
export function newRunId(taskId: string, model: string, seed: number): string {
  const slug = model.replace(/^replay:.*\//, 'replay:').replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40);
  return `run-${taskId}-${slug}-${seed}-${randomBytes(3).toString('hex')}`;
}
