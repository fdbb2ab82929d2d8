import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, chown, lchown, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ObjectStore } from '../artifacts/objectStore.js';
import { chunkBuffers } from './chunks.js';
import type { Manifest } from './manifest.js';

const run = promisify(execFile);

/** A manifest path: relative, `/`-separated, no empty, `.` or `..` part. */
function safePath(path: string): string {
  if (!path || path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) throw new Error(`snapshot entry with an unsafe path ${JSON.stringify(path)}`);
  return path;
}

/**
 * Restore a snapshot by writing its entries straight into the run's new workspace filesystem, mounted on
 * this host (lib/snapshots/hostReader.ts `hostWorkspace`): at the speed of the disk, with no archive in
 * between. The workspace is new and empty and the agent has run nothing in it yet; still, nothing is
 * followed or overwritten (O_EXCL, O_NOFOLLOW). Folders get their modes last, so a read-only folder
 * can be filled first.
 */
export async function restoreOnHost(store: ObjectStore, root: string, manifest: Pick<Manifest, 'entries'>): Promise<void> {
  const folders: { path: string; mode: number; mtime: number }[] = [];
  for (const e of manifest.entries) {
    const path = join(root, safePath(e.path));
    switch (e.type) {
      case 'directory':
        await mkdir(path, { mode: 0o700 });
        await chown(path, e.uid, e.gid);
        folders.push({ path, mode: e.mode, mtime: e.mtime });
        break;
      case 'file': {
        const file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const data of chunkBuffers(store, e.chunks)) await file.write(data);
          await file.chown(e.uid, e.gid);
          await file.chmod(e.mode);
          await file.utimes(e.mtime, e.mtime);
        } finally {
          await file.close();
        }
        break;
      }
      case 'symlink':
        await symlink(e.target, path);
        await lchown(path, e.uid, e.gid);
        await lutimes(path, e.mtime, e.mtime);
        break;
      case 'fifo':
        await run('mkfifo', ['-m', (e.mode & 0o777).toString(8), path]);
        await lchown(path, e.uid, e.gid);
        await utimes(path, e.mtime, e.mtime);
        break;
    }
  }
  // Deepest first: a folder's own time is set after everything in it was written.
  for (const f of folders.reverse()) {
    await chmod(f.path, f.mode);
    await utimes(f.path, f.mtime, f.mtime);
  }
}
