import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedTask } from '../config/load.js';

/**
 * The version of a task's evaluation: a SHA-256 over every file the grader gets (evaluation scripts, private
 * files, the data variant's hidden answers), names and contents, in a fixed order. Any change to what grades
 * a run changes it; a rescore's scores are recorded under it.
 */
export function evaluatorVersion(task: Pick<LoadedTask, 'dir' | 'evaluation_paths' | 'private_files' | 'datasets'>): string {
  const hash = createHash('sha256');
  const roots = [
    ...[...new Set([...task.evaluation_paths, ...task.private_files])].map((p) => ({ name: p, path: join(task.dir, p) })),
    ...task.datasets.flatMap((d) => (d.privateDir ? [{ name: `private:${d.name}`, path: d.privateDir }] : [])),
  ];
  for (const root of roots) for (const file of filesUnder(root.path, root.name)) hash.update(`${file.name}\0${file.size}\0`).update(readFileSync(file.path));
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

function filesUnder(path: string, name: string): { name: string; path: string; size: number }[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [{ name, path, size: st.size }];
  return readdirSync(path)
    .sort()
    .flatMap((child) => filesUnder(join(path, child), `${name}/${child}`));
}
