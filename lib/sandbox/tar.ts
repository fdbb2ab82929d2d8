import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import { pack } from 'tar-stream';

export interface TarEntry {
  name: string;
  /** File content; omit for a directory. */
  content?: Buffer | string;
  /** Or a file on this host whose content is streamed when the archive is (tarStream only). */
  file?: string;
  size?: number;
  mode: number;
  uid: number;
  gid: number;
}

/** Build a tar archive in memory with explicit ownership and modes, for Docker's putArchive. */
export function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const e of entries) {
    const header = { name: e.name, mode: e.mode, uid: e.uid, gid: e.gid, mtime: new Date(0) };
    const content = e.content ?? (e.file !== undefined ? readFileSync(e.file) : undefined);
    if (content === undefined) archive.entry({ ...header, type: 'directory' });
    else archive.entry(header, typeof content === 'string' ? Buffer.from(content) : content);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.on('data', (c) => chunks.push(c as Buffer));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
}

/**
 * A tar archive as a stream, for entries of any size: `file` entries are read from disk as the archive
 * is consumed, so memory holds no more than a buffer's worth whatever the tree's size.
 */
export function tarStream(entries: TarEntry[]): Readable {
  const archive = pack();
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  archive.on('error', (err: Error) => out.destroy(err));
  archive.pipe(out);
  void (async () => {
    for (const e of entries) {
      const header = { name: e.name, mode: e.mode, uid: e.uid, gid: e.gid, mtime: new Date(0) };
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (e.file !== undefined) {
          const sink = archive.entry({ ...header, size: e.size ?? statSync(e.file).size }, done);
          sink.on('error', () => undefined); // reported through `done` and the archive
          void (async () => {
            for await (const buf of createReadStream(e.file!)) if (!sink.write(buf as Buffer)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
            (sink as unknown as NodeJS.WritableStream).end();
          })().catch((err: Error) => {
            sink.destroy(err);
            reject(err);
          });
        } else if (e.content === undefined) archive.entry({ ...header, type: 'directory' }, done);
        else archive.entry(header, typeof e.content === 'string' ? Buffer.from(e.content) : e.content, done);
      });
    }
    archive.finalize();
  })().catch((err: Error) => archive.destroy(err));
  return out;
}

/**
 * Entries for a file or a whole directory tree at `source`, placed under `target` in the archive.
 * `stream`: name each file (for tarStream) instead of reading it into memory.
 */
export function treeEntries(source: string, target: string, owner: { uid: number; gid: number; readOnly: boolean }, opts: { stream?: boolean } = {}): TarEntry[] {
  const fileMode = owner.readOnly ? 0o444 : 0o644;
  const dirMode = owner.readOnly ? 0o555 : 0o755;
  const entry = (path: string, name: string): TarEntry[] => {
    const st = statSync(path);
    if (!st.isDirectory()) {
      const executable = (st.mode & 0o111) !== 0;
      const content = opts.stream ? { file: path, size: st.size } : { content: readFileSync(path) };
      return [{ name, ...content, mode: executable ? fileMode | 0o111 : fileMode, uid: owner.uid, gid: owner.gid }];
    }
    const children = readdirSync(path)
      .filter((c) => c !== '__pycache__')
      .flatMap((c) => entry(join(path, c), `${name}/${c}`));
    return [{ name, mode: dirMode, uid: owner.uid, gid: owner.gid }, ...children];
  };
  return entry(source, target);
}

