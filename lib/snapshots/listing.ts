import type { FileEntry, Manifest, ManifestEntry } from './manifest.js';

/** Where the snapshot reader mounts the workspace (read-only). */
export const READER_ROOT = '/ws';

/**
 * Root-owned top-level folders that are not the agent's work: the task's read-only data (copied in
 * again by a restore) and an ext4 `lost+found`. The agent cannot make root-owned files (it has no
 * capabilities), so a root-owned `data` is always the task's.
 */
export const EXCLUDED = ['data', 'lost+found'];

/** One line per entry: type, mode, owner, size, times, inode, path; then the link target. NUL-terminated. */
const FORMAT = '%y\\t%m\\t%U\\t%G\\t%s\\t%T@\\t%C@\\t%i\\t%P\\0%l\\0';

/**
 * The reader's listing command: every entry of the workspace with what `find` knows of it, without
 * reading any file; the excluded folders are named (type `X`) and not descended into.
 */
export function listingCommand(root = READER_ROOT): string[] {
  const excluded = EXCLUDED.flatMap((name, i) => [...(i ? ['-o'] : []), '-path', `${root}/${name}`]);
  return ['find', root, '-xdev', '-mindepth', '1', '(', '(', ...excluded, ')', '-uid', '0', '-printf', 'X\\t0\\t0\\t0\\t0\\t0\\t0\\t0\\t%P\\0\\0', '-prune', ')', '-o', '-printf', FORMAT];
}

export type ListedType = 'file' | 'directory' | 'symlink' | 'fifo' | 'other';

export interface Listed {
  path: string;
  type: ListedType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds with 9 decimals (nanoseconds kept: they make the stat key). */
  mtime: string;
  ctime: string;
  ino: string;
  /** Symlinks: where they point. */
  target: string;
}

const TYPES: Record<string, ListedType> = { f: 'file', d: 'directory', l: 'symlink', p: 'fifo' };

/** Nanoseconds since the epoch as seconds with 9 decimals. */
export function nsSeconds(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** `find`'s seconds (10 decimals) the same way: 9 decimals. */
function findSeconds(text: string): string {
  const [s, frac = ''] = text.split('.');
  return `${s}.${frac.slice(0, 9).padEnd(9, '0')}`;
}

/** Parse the listing command's output: the entries in `find`'s order, and whether the task's data was left out. */
export function parseListing(out: Buffer | string): { entries: Listed[]; taskData: boolean } {
  const fields = (typeof out === 'string' ? out : out.toString('utf8')).split('\0');
  const entries: Listed[] = [];
  let taskData = false;
  // Records are pairs (line, link target); a trailing empty string follows the last NUL.
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const line = fields[i]!;
    const parts = line.split('\t');
    if (parts.length < 9) throw new Error(`unexpected workspace listing line ${JSON.stringify(line.slice(0, 200))}`);
    const [y, m, u, g, s, mt, ct, ino] = parts as [string, string, string, string, string, string, string, string];
    const path = parts.slice(8).join('\t');
    if (y === 'X') {
      if (path === 'data') taskData = true;
      continue;
    }
    entries.push({
      path,
      type: TYPES[y] ?? 'other',
      mode: parseInt(m, 8),
      uid: Number(u),
      gid: Number(g),
      size: Number(s),
      mtime: findSeconds(mt),
      ctime: findSeconds(ct),
      ino,
      target: fields[i + 1]!,
    });
  }
  return { entries, taskData };
}

/** What a file looked like: the same key later means the same content (its ctime cannot be set back). */
export function statKey(l: Pick<Listed, 'ino' | 'size' | 'mtime' | 'ctime'>): string {
  return `${l.ino}:${l.size}:${l.mtime}:${l.ctime}`;
}

/**
 * A file changed less than this before the listing may change again within the same timestamp tick
 * (ext4 stamps with a coarse clock: a few ms) after it was read, unnoticed: such a file is read again
 * next time. Any change later than this gets a newer ctime than the one recorded.
 */
export const RACY_S = 0.5;

export interface SnapshotPlan {
  /** The manifest's entries in order; files to read have `chunks: []` until they are read. */
  entries: ManifestEntry[];
  /** Files whose content must be read (new, changed or racy), in order. */
  toRead: FileEntry[];
  /** Sockets and other kinds a snapshot cannot hold. */
  skipped: string[];
}

/**
 * Decide, without reading any file, what the new snapshot takes from the previous one: a file whose
 * stat key is unchanged (and was not racy) keeps its chunks; every other file is read.
 */
export function planSnapshot(listed: Listed[], previous: Pick<Manifest, 'entries'> | undefined, listedAtS: number): SnapshotPlan {
  const before = new Map<string, FileEntry>();
  for (const e of previous?.entries ?? []) if (e.type === 'file') before.set(e.path, e);
  const entries: ManifestEntry[] = [];
  const toRead: FileEntry[] = [];
  const skipped: string[] = [];
  for (const l of listed) {
    const base = { path: l.path, mode: l.mode, uid: l.uid, gid: l.gid, mtime: Number(l.mtime) };
    switch (l.type) {
      case 'directory':
        entries.push({ ...base, type: 'directory' });
        break;
      case 'symlink':
        entries.push({ ...base, type: 'symlink', target: l.target });
        break;
      case 'fifo':
        entries.push({ ...base, type: 'fifo' });
        break;
      case 'file': {
        const stat = statKey(l);
        const racy = Math.max(Number(l.mtime), Number(l.ctime)) >= listedAtS - RACY_S;
        const old = before.get(l.path);
        if (old && old.stat === stat && !old.racy && old.size === l.size) {
          entries.push({ ...base, type: 'file', size: l.size, chunks: old.chunks, stat, ...(racy ? { racy } : {}) });
        } else {
          const entry: FileEntry = { ...base, type: 'file', size: l.size, chunks: [], stat, ...(racy ? { racy } : {}) };
          entries.push(entry);
          toRead.push(entry);
        }
        break;
      }
      default:
        skipped.push(l.path);
    }
  }
  return { entries, toRead, skipped };
}
