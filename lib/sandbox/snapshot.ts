import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import { extract, pack } from 'tar-stream';
import type { ObjectStore } from '../artifacts/objectStore.js';
import { ChunkUploader, chunkBuffers, chunkStream } from '../snapshots/chunks.js';
import { hostWorkspace, listHost, openHostFile } from '../snapshots/hostReader.js';
import { restoreOnHost } from '../snapshots/hostRestore.js';
import { listingCommand, parseListing, planSnapshot, READER_ROOT, type SnapshotPlan } from '../snapshots/listing.js';
import { CHUNK_SIZE, chunkKey, latestManifest, manifestKey, MANIFEST_VERSION, type FileEntry, type Manifest, type SnapshotStats } from '../snapshots/manifest.js';
import { execStream, removeReader, startReader } from '../snapshots/reader.js';
import { findAgentContainer, volumeName } from './container.js';
import { docker, WORKSPACE } from './docker.js';

/**
 * Workspace snapshots that cost what changed (lib/snapshots/manifest.ts has the format):
 *
 * 1. The workspace is listed (path, type, mode, owner, size, inode, times) without reading any file:
 *    from this host when the run's quota disk is mounted here (lib/snapshots/hostReader.ts: disk
 *    speed), else by `find` in a reader container (lib/snapshots/reader.ts).
 * 2. A file whose inode, size, mtime and ctime are those recorded by the previous snapshot keeps its
 *    chunks; only new and changed files are read (from the host, or through one `tar` of exactly those
 *    files in the reader), streamed into fixed-size chunks and hashed as they arrive. A chunk already
 *    in the store is not written again.
 * 3. The manifest is written last (atomically): a snapshot cut short leaves at most unreferenced
 *    chunks, which `mlgym gc` removes.
 *
 * Memory stays flat whatever the workspace's size: a few chunks in flight, never a whole file.
 */
export async function takeSnapshot(store: ObjectStore, runId: string, step: number): Promise<SnapshotStats | undefined> {
  const started = performance.now();
  const agent = await findAgentContainer(runId);
  if (!agent) return undefined;
  const previous = await latestManifest(store, runId);
  const uploader = new ChunkUploader(store);
  const host = hostAccess() ? await hostWorkspace(volumeName(runId)) : undefined;
  const { plan, taskData, missing } = host ? await readOnHost(host, previous, uploader) : await readInContainer(runId, agent.ImageID, previous, uploader);
  await uploader.flush();

  const entries = plan.entries.filter((e) => !missing.has(e.path));
  const files = entries.filter((e): e is FileEntry => e.type === 'file');
  const read = plan.toRead.filter((e) => !missing.has(e.path));
  const stats = {
    entries: entries.length,
    files: files.length,
    fileBytes: files.reduce((n, f) => n + f.size, 0),
    readFiles: read.length,
    readBytes: read.reduce((n, f) => n + f.size, 0),
    newChunks: uploader.newChunks,
    newBytes: uploader.newBytes,
    ms: performance.now() - started,
  };
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    runId,
    step,
    createdAt: new Date().toISOString(),
    chunkSize: CHUNK_SIZE,
    taskData,
    entries,
    parent: previous?.step ?? null,
    stats,
  };
  const body = JSON.stringify(manifest);
  await store.put(manifestKey(runId, step), body);
  return { ...stats, ms: performance.now() - started, manifestBytes: Buffer.byteLength(body) };
}

interface ReadResult {
  plan: SnapshotPlan;
  taskData: boolean;
  /** Files listed but gone (or replaced) by the time they were read: left out of this snapshot. */
  missing: Set<string>;
}

/** List and read the workspace from this host (its quota disk is mounted here; lib/snapshots/hostReader.ts). */
async function readOnHost(host: { root: string; dev: bigint }, previous: Manifest | undefined, uploader: ChunkUploader): Promise<ReadResult> {
  const listedAtS = Date.now() / 1000;
  const listing = await listHost(host.root, host.dev);
  const plan = planSnapshot(listing.entries, previous, listedAtS);
  const ino = new Map(listing.entries.map((e) => [e.path, e.ino]));
  const missing = new Set<string>();
  for (const file of plan.toRead) {
    const content = await openHostFile(host.root, host.dev, { path: file.path, ino: ino.get(file.path)! });
    if (!content) {
      missing.add(file.path);
      continue;
    }
    await storeContent(file, content, uploader);
  }
  return { plan, taskData: listing.taskData, missing };
}

/** List and read the workspace through a reader container (lib/snapshots/reader.ts): works with any engine. */
async function readInContainer(runId: string, image: string, previous: Manifest | undefined, uploader: ChunkUploader): Promise<ReadResult> {
  const reader = await startReader(runId, image, volumeName(runId));
  try {
    const listedAtS = Date.now() / 1000;
    const listing = parseListing(await readAll(reader, listingCommand()));
    const plan = planSnapshot(listing.entries, previous, listedAtS);
    const missing = plan.toRead.length ? await readFiles(reader, plan.toRead, uploader) : new Set<string>();
    return { plan, taskData: listing.taskData, missing };
  } finally {
    await removeReader(runId);
  }
}

/** Cut a file's content into stored chunks; fill in its entry. */
async function storeContent(file: FileEntry, content: AsyncIterable<Buffer>, uploader: ChunkUploader): Promise<void> {
  const { hashes, bytes } = await chunkStream(content, CHUNK_SIZE, (chunk, hash) => uploader.add(chunk, hash));
  // Written to while it was read: the next snapshot reads it again.
  if (bytes !== file.size) file.racy = true;
  file.chunks = hashes;
  file.size = bytes;
}

/** A short command's whole stdout from the reader (the listing); fails on a non-zero exit. */
async function readAll(containerId: string, cmd: string[]): Promise<Buffer> {
  const { stdout, done } = await execStream(containerId, cmd);
  const parts: Buffer[] = [];
  for await (const part of stdout) parts.push(part as Buffer);
  const { exitCode, stderr } = await done;
  if (exitCode !== 0) throw new Error(`${cmd[0]} in the snapshot reader exited with ${exitCode}: ${stderr.trim().slice(-1000)}`);
  return Buffer.concat(parts);
}

/** tar's complaints that only mean a file went away (or changed) between the listing and the read. */
const VANISHED = /No such file or directory|file changed as we read it|File removed before we read it|Exiting with failure status due to previous errors/;

/**
 * Read these files' content through one `tar` in the reader and cut it into stored chunks; fills each
 * entry's `chunks` (and `size`, as read). Returns the paths that were gone by the time tar got to them.
 */
async function readFiles(reader: string, files: FileEntry[], uploader: ChunkUploader): Promise<Set<string>> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const names = Buffer.from(files.map((f) => `${f.path}\0`).join(''));
  const tarCmd = ['tar', '--create', '--file=-', '--format=posix', '--numeric-owner', '--hard-dereference', '--no-recursion', '-C', READER_ROOT, '--null', '--verbatim-files-from', '--files-from=-'];
  const { stdout, done } = await execStream(reader, tarCmd, { stdin: names });
  const archive = extract();
  stdout.on('error', (err) => archive.destroy(err));
  stdout.pipe(archive as unknown as NodeJS.WritableStream);
  const seen = new Set<string>();
  for await (const entry of archive) {
    const file = byPath.get(entry.header.name);
    if (!file || entry.header.type !== 'file' || seen.has(file.path)) {
      entry.resume(); // not asked for (or no longer a file): skipped
      continue;
    }
    await storeContent(file, entry as AsyncIterable<Buffer>, uploader);
    seen.add(file.path);
  }
  const { exitCode, stderr } = await done;
  const complaints = stderr.split('\n').filter((l) => l.trim() && !VANISHED.test(l));
  if (exitCode !== 0 && (exitCode > 2 || complaints.length)) throw new Error(`tar in the snapshot reader exited with ${exitCode}: ${stderr.trim().slice(-1000)}`);
  return new Set(files.filter((f) => !seen.has(f.path)).map((f) => f.path));
}

/** A manifest as a tar stream (content streamed from the store, chunk by chunk). */
export function manifestArchive(store: ObjectStore, manifest: Pick<Manifest, 'entries'>): Readable {
  const archive = pack();
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  archive.on('error', (err: Error) => body.destroy(err));
  archive.pipe(body);
  const writeEntry = (header: Parameters<typeof archive.entry>[0], data?: AsyncIterable<Buffer>) =>
    new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      // Folders, links and FIFOs have no content; an empty file gets an empty buffer.
      if (header.type !== 'file') return void archive.entry(header, done);
      if (!data) return void archive.entry(header, Buffer.alloc(0), done);
      const sink = archive.entry(header, done);
      sink.on('error', () => undefined); // reported through `done` and the archive
      void (async () => {
        for await (const buf of data) if (!sink.write(buf)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
        (sink as unknown as NodeJS.WritableStream).end();
      })().catch((err: Error) => {
        sink.destroy(err);
        reject(err);
      });
    });
  void (async () => {
    for (const e of manifest.entries) {
      // tar-stream takes mode 0 for "no mode" (and writes 644): the file-type bit keeps a 000 a 000.
      const header = { name: e.path, mode: e.mode || 0o100000, uid: e.uid, gid: e.gid, mtime: new Date(Math.floor(e.mtime) * 1000) };
      if (e.type === 'directory') await writeEntry({ ...header, type: 'directory' });
      else if (e.type === 'symlink') await writeEntry({ ...header, type: 'symlink', linkname: e.target });
      else if (e.type === 'fifo') await writeEntry({ ...header, type: 'fifo' });
      else await writeEntry({ ...header, type: 'file', size: e.size }, e.size ? chunkBuffers(store, e.chunks) : undefined);
    }
    archive.finalize();
  })().catch((err: Error) => archive.destroy(err));
  return body;
}

/** Whether snapshots may read and restores write the workspace from this host (MLGYM_SNAPSHOT_READER=container: never). */
function hostAccess(): boolean {
  return process.env.MLGYM_SNAPSHOT_READER !== 'container';
}

/**
 * Restore a snapshot into a container's new, empty workspace. The task's data is not part of it: the
 * caller copies that in from the task. When the workspace's quota disk is mounted on this host the
 * entries are written straight into it (lib/snapshots/hostRestore.ts); else they are streamed from the
 * store as a tar into Docker's archive upload, which writes them with their owners and modes.
 */
export async function restoreSnapshot(store: ObjectStore, containerId: string, manifest: Pick<Manifest, 'entries'>, volume?: string): Promise<'host' | 'archive'> {
  const host = volume && hostAccess() ? await hostWorkspace(volume) : undefined;
  if (host) {
    await restoreOnHost(store, host.root, manifest);
    return 'host';
  }
  await docker().getContainer(containerId).putArchive(manifestArchive(store, manifest), { path: WORKSPACE });
  return 'archive';
}

/**
 * Today's full snapshot, kept for comparison (perf/workspace.ts) and for runs whose only snapshot is
 * such an archive: the whole workspace as one tar (folder `workspace/`) in memory. It fails beyond
 * Node's largest Buffer (4 GiB).
 */
export async function archiveWorkspace(containerId: string): Promise<Buffer> {
  const stream = await docker().getContainer(containerId).getArchive({ path: WORKSPACE });
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Restore a whole-workspace archive (archiveWorkspace's format) into a container, streamed. */
export async function restoreWorkspace(containerId: string, archive: Buffer | Readable): Promise<void> {
  await docker().getContainer(containerId).putArchive(archive, { path: WORKSPACE.replace(/\/workspace$/, '') });
}
