import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { execIn } from '../../lib/sandbox/exec.js';

/**
 * For each of `files` (host paths), the paths of the files in the container with exactly its content: one
 * walk of the container's file system for all of them, hashing only files of a size one of them has.
 */
export async function copiesIn(containerId: string, files: string[]): Promise<Map<string, string[]>> {
  const digests = new Map(files.map((f) => [f, createHash('sha256').update(readFileSync(f)).digest('hex')]));
  const found = new Map<string, string[]>(files.map((f) => [f, []]));
  if (!files.length) return found;
  const sizes = [...new Set(files.map((f) => statSync(f).size))].map((s) => `-size ${s}c`).join(' -o ');
  const out = await execIn(
    containerId,
    ['sh', '-c', `find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f \\( ${sizes} \\) -print0 2>/dev/null | xargs -0 -r sha256sum`],
    { user: 'root' },
  );
  for (const line of out.stdout.split('\n')) {
    for (const [file, digest] of digests) if (line.startsWith(digest)) found.get(file)!.push(line.slice(66));
  }
  return found;
}
