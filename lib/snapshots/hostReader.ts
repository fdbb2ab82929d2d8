import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { docker } from '../sandbox/docker.js';
import { EXCLUDED, nsSeconds, type Listed, type ListedType } from './listing.js';

/**
 * Reading a workspace from the Docker host, at the speed of its disk: used when the run's volume is a
 * filesystem of its own (a quota disk, lib/sandbox/quota.ts) mounted on this host, i.e. the worker
 * runs as root beside the engine. Otherwise snapshots go through a reader container (slower: Docker
 * streams exec output at tens of MB/s).
 *
 * The tree is the agent's, and the agent may change it while it is read (a process it left running):
 * nothing is followed. Every entry must be on the workspace's own device (a folder swapped for a
 * symlink to a host folder lists host entries, which are on another device: skipped), and a file is
 * opened with O_NOFOLLOW and checked, once open, to be the very inode that was listed, on that device.
 */

/** The host folder where the run's workspace filesystem is mounted, if it is one of its own and mounted now. */
export async function hostWorkspace(volume: string): Promise<{ root: string; dev: bigint } | undefined> {
  let mountpoint: string | undefined;
  try {
    mountpoint = ((await docker().getVolume(volume).inspect()) as { Mountpoint?: string }).Mountpoint;
  } catch {
    return undefined;
  }
  if (!mountpoint) return undefined;
  try {
    const [self, parent] = await Promise.all([stat(mountpoint, { bigint: true }), stat(dirname(mountpoint), { bigint: true })]);
    // Not a mount of its own (a plain volume, or the device is not mounted now): not safe to read from here.
    if (self.dev === parent.dev) return undefined;
    return { root: mountpoint, dev: self.dev };
  } catch {
    return undefined;
  }
}

function kind(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean }): ListedType {
  return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : 'other';
}

/** Every entry of the workspace (a folder before its content), as the reader container's `find` lists them. */
export async function listHost(root: string, dev: bigint): Promise<{ entries: Listed[]; taskData: boolean }> {
  const entries: Listed[] = [];
  let taskData = false;
  const stack: string[] = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    let names: string[];
    try {
      names = (await readdir(join(root, rel))).sort();
    } catch {
      continue; // gone, or no longer a folder
    }
    const dirs: string[] = [];
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      let st;
      try {
        st = await lstat(join(root, path), { bigint: true });
      } catch {
        continue;
      }
      if (st.dev !== dev) continue;
      if (!rel && EXCLUDED.includes(name) && st.uid === 0n) {
        if (name === 'data') taskData = true;
        continue;
      }
      const type = kind(st);
      entries.push({
        path,
        type,
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: Number(st.size),
        mtime: nsSeconds(st.mtimeNs),
        ctime: nsSeconds(st.ctimeNs),
        ino: st.ino.toString(),
        target: type === 'symlink' ? await readlink(join(root, path)).catch(() => '') : '',
      });
      if (type === 'directory') dirs.push(path);
    }
    // Depth first, in name order: push in reverse so the first folder is read next.
    for (const d of dirs.reverse()) stack.push(d);
  }
  return { entries, taskData };
}

/**
 * A listed file's content, or undefined if it is no longer that file (replaced, moved, swapped for a
 * link): then the snapshot leaves it out and the next one reads what is there.
 */
export async function openHostFile(root: string, dev: bigint, entry: Pick<Listed, 'path' | 'ino'>): Promise<Readable | undefined> {
  let handle;
  try {
    handle = await open(join(root, entry.path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const st = await handle.stat({ bigint: true });
  if (st.dev !== dev || st.ino.toString() !== entry.ino || !st.isFile()) {
    await handle.close();
    return undefined;
  }
  return handle.createReadStream({ highWaterMark: 1024 * 1024 });
}
