import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'tar-stream';

export interface TarEntry {
  name: string;
  /** File content; omit for a directory. */
  content?: Buffer | string;
  mode: number;
  uid: number;
  gid: number;
}

/** Build a tar archive in memory with explicit ownership and modes, for Docker's putArchive. */
export function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const e of entries) {
    const header = { name: e.name, mode: e.mode, uid: e.uid, gid: e.gid, mtime: new Date(0) };
    if (e.content === undefined) archive.entry({ ...header, type: 'directory' });
    else archive.entry(header, typeof e.content === 'string' ? Buffer.from(e.content) : e.content);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.on('data', (c) => chunks.push(c as Buffer));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
}

/** Entries for a file or a whole directory tree at `source`, placed under `target` in the archive. */
export function treeEntries(source: string, target: string, owner: { uid: number; gid: number; readOnly: boolean }): TarEntry[] {
  const fileMode = owner.readOnly ? 0o444 : 0o644;
  const dirMode = owner.readOnly ? 0o555 : 0o755;
  const entry = (path: string, name: string): TarEntry[] => {
    const st = statSync(path);
    if (!st.isDirectory()) {
      const executable = (st.mode & 0o111) !== 0;
      return [{ name, content: readFileSync(path), mode: executable ? fileMode | 0o111 : fileMode, uid: owner.uid, gid: owner.gid }];
    }
    const children = readdirSync(path)
      .filter((c) => c !== '__pycache__')
      .flatMap((c) => entry(join(path, c), `${name}/${c}`));
    return [{ name, mode: dirMode, uid: owner.uid, gid: owner.gid }, ...children];
  };
  return entry(source, target);
}

