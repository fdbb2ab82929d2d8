import { createHash } from 'node:crypto';
import type { LoadedTask } from '../config/load.js';
import type { Manifest } from '../snapshots/manifest.js';
import type { GradeOutcome, Split } from './grader.js';

/**
 * What an evaluation's outcome depends on, as one hash: the workspace as its snapshot lists it (each
 * entry's path, kind, owner, mode and times, a file's inode and change time and the hashes of its
 * content), the grader's files (graderArchive), the image, and the task settings the grader reads. Two
 * gradings with one key evaluate the same bytes the same way.
 */
export function gradingKey(workspace: Pick<Manifest, 'entries'>, graderFiles: Buffer, image: string, task: LoadedTask): string {
  const hash = createHash('sha256');
  // `racy` only says when a file was read; its content hashes are already in the entry.
  for (const entry of workspace.entries) hash.update(JSON.stringify({ ...entry, racy: undefined })).update('\0');
  const settings = [task.id, task.data, task.split_secrets, task.resources, task.training_timeout, task.submission_artifact, task.task_entrypoint, task.mlgym, task.evaluation_paths, task.primary_metric];
  return hash.update(createHash('sha256').update(graderFiles).digest('hex')).update(image).update(JSON.stringify(settings)).digest('hex');
}

/** The run's last grading (recordName.grading): its key, step and outcomes. */
export interface GradingRecord {
  key: string;
  step: number;
  outcomes: Partial<Record<Split, GradeOutcome>>;
}

/**
 * The outcomes of `splits` from an earlier grading with this key, when it evaluated all of them and
 * each succeeded; a failure (which can be the host's: a timeout under load) is always evaluated again.
 */
export function reusableOutcomes(earlier: GradingRecord | undefined, key: string, splits: Split[]): Record<Split, GradeOutcome | undefined> | undefined {
  if (earlier?.key !== key || !splits.every((s) => earlier.outcomes[s]?.ok)) return undefined;
  return { validation: undefined, test: undefined, ...Object.fromEntries(splits.map((s) => [s, earlier.outcomes[s]])) };
}
