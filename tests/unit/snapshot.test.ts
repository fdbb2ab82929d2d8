import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../lib/artifacts/objectStore.js';
import { manifestArchive } from '../../lib/sandbox/snapshot.js';
import { imageBytes } from '../../lib/sandbox/quota.js';
import { tarStream } from '../../lib/sandbox/tar.js';
import { ChunkUploader, chunkStream } from '../../lib/snapshots/chunks.js';
import { listingCommand, nsSeconds, parseListing, planSnapshot, RACY_S, statKey, type Listed } from '../../lib/snapshots/listing.js';
import { chooseSnapshot, chunkKey, manifestKey, snapshotFor, snapshotSteps, stepOfKey, type FileEntry, type ManifestEntry } from '../../lib/snapshots/manifest.js';
import { sweepPlan, sweepSnapshots } from '../../lib/snapshots/retention.js';
import { listHost, openHostFile } from '../../lib/snapshots/hostReader.js';
import { mkdirSync, renameSync, statSync, symlinkSync, chmodSync } from 'node:fs';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let dir: string;
let store: LocalObjectStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'snapshot-test-'));
  store = new LocalObjectStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** find's output for some entries, as the reader prints it. */
function findOutput(rows: [string, string, ...string[]][]): string {
  return rows.map(([line, target]) => `${line}\0${target}\0`).join('');
}

describe('the workspace listing', () => {
  it('parses find lines: kinds, octal modes, owners, exact times, names with tabs, link targets; notes the task data left out', () => {
    const out = findOutput([
      ['X\t0\t0\t0\t0\t0\t0\t0\tdata', ''],
      ['d\t755\t1000\t1000\t4096\t1700000000.1234567890\t1700000001.5000000000\t12\tsrc', ''],
      ['f\t644\t1000\t1000\t5\t1700000000.0000000000\t1700000002.0000000001\t13\tsrc/a\tb.py', ''],
      ['l\t777\t1000\t1000\t4\t1700000000.0\t1700000000.0\t14\tlink', 'src/a\tb.py'],
      ['p\t600\t1000\t1000\t0\t1700000000.0\t1700000000.0\t15\tpipe', ''],
      ['s\t755\t1000\t1000\t0\t1700000000.0\t1700000000.0\t16\tsock', ''],
    ]);
    const { entries, taskData } = parseListing(Buffer.from(out));
    expect(taskData).toBe(true);
    expect(entries.map((e) => [e.type, e.path, e.mode, e.target])).toEqual([
      ['directory', 'src', 0o755, ''],
      ['file', 'src/a\tb.py', 0o644, ''],
      ['symlink', 'link', 0o777, 'src/a\tb.py'],
      ['fifo', 'pipe', 0o600, ''],
      ['other', 'sock', 0o755, ''],
    ]);
    expect(statKey(entries[1]!)).toBe('13:5:1700000000.000000000:1700000002.000000000');
    expect(entries[0]!.mtime).toBe('1700000000.123456789');
    expect(nsSeconds(1700000000123456789n)).toBe('1700000000.123456789');
    expect(nsSeconds(5n)).toBe('0.000000005');
    expect(parseListing('').entries).toEqual([]);
    expect(() => parseListing('garbage\0\0')).toThrow(/unexpected workspace listing line/);
  });

  it('asks find to skip the root-owned task data and lost+found, and nothing else', () => {
    const cmd = listingCommand('/ws');
    expect(cmd.slice(0, 5)).toEqual(['find', '/ws', '-xdev', '-mindepth', '1']);
    expect(cmd.join(' ')).toContain('( ( -path /ws/data -o -path /ws/lost+found ) -uid 0 -printf');
    expect(cmd.at(-1)).toMatch(/^%y.*%P\\0%l\\0$/);
  });
});

const listed = (path: string, over: Partial<Listed> = {}): Listed => ({
  path, type: 'file', mode: 0o644, uid: 1000, gid: 1000, size: 10, mtime: '1000.0', ctime: '1000.0', ino: '1', target: '', ...over,
});

describe('planning a snapshot against the previous one', () => {
  const hash = 'a'.repeat(64);
  const previous = {
    entries: [
      { path: 'same', type: 'file', mode: 0o644, uid: 1000, gid: 1000, mtime: 1000, size: 10, chunks: [hash], stat: statKey(listed('same')) },
      { path: 'racy', type: 'file', mode: 0o644, uid: 1000, gid: 1000, mtime: 1000, size: 10, chunks: [hash], stat: statKey(listed('racy')), racy: true },
      { path: 'edited', type: 'file', mode: 0o644, uid: 1000, gid: 1000, mtime: 1000, size: 10, chunks: [hash], stat: statKey(listed('edited')) },
    ] as ManifestEntry[],
  };

  it('keeps the chunks of files whose stat is unchanged; reads new, changed and racy ones', () => {
    const now = 5000;
    const plan = planSnapshot(
      [
        listed('dir', { type: 'directory', mode: 0o700 }),
        listed('same', { mode: 0o600 }),
        listed('racy'),
        listed('edited', { ctime: '1001.5' }),
        listed('new', { ino: '9' }),
        listed('fresh', { ino: '10', ctime: String(now - RACY_S / 2) }),
        listed('ln', { type: 'symlink', target: 'same' }),
        listed('sock', { type: 'other' }),
      ],
      previous,
      now,
    );
    expect(plan.toRead.map((e) => e.path)).toEqual(['racy', 'edited', 'new', 'fresh']);
    expect(plan.skipped).toEqual(['sock']);
    const byPath = new Map(plan.entries.map((e) => [e.path, e]));
    // Metadata comes from the listing; chunks from the previous snapshot.
    expect(byPath.get('same')).toMatchObject({ type: 'file', mode: 0o600, chunks: [hash] });
    expect(byPath.get('dir')).toEqual({ path: 'dir', type: 'directory', mode: 0o700, uid: 1000, gid: 1000, mtime: 1000 });
    expect(byPath.get('ln')).toMatchObject({ type: 'symlink', target: 'same' });
    expect((byPath.get('fresh') as FileEntry).racy).toBe(true);
    expect((byPath.get('new') as FileEntry).racy).toBeUndefined();
    // The entries a plan reads are the ones in its manifest: filling them in fills the manifest.
    plan.toRead[0]!.chunks = ['b'.repeat(64)];
    expect((byPath.get('racy') as FileEntry).chunks).toEqual(['b'.repeat(64)]);
  });

  it('reads every file when there is no previous snapshot', () => {
    const plan = planSnapshot([listed('a'), listed('b', { ino: '2' })], undefined, 5000);
    expect(plan.toRead.map((e) => e.path)).toEqual(['a', 'b']);
  });
});

async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

describe('chunking', () => {
  it('cuts a stream at fixed offsets whatever the pieces it arrives in, hashing each chunk', async () => {
    const data = randomBytes(10_000);
    const seen: [number, string][] = [];
    const { hashes, bytes } = await chunkStream(pieces(data, [1, 333, 4096, 7]), 4096, async (chunk, hash) => {
      seen.push([chunk.length, hash]);
    });
    expect(bytes).toBe(10_000);
    expect(seen.map(([n]) => n)).toEqual([4096, 4096, 1808]);
    expect(hashes).toEqual([sha(data.subarray(0, 4096)), sha(data.subarray(4096, 8192)), sha(data.subarray(8192))]);
    expect(seen.map(([, h]) => h)).toEqual(hashes);
    expect(await chunkStream(pieces(Buffer.alloc(0), [1]), 4096, async () => {})).toEqual({ hashes: [], bytes: 0 });
  });

  it('stores a chunk once, skips chunks already stored, and reports what it wrote', async () => {
    const a = randomBytes(100);
    const b = randomBytes(50);
    await store.put(chunkKey(sha(b)), b);
    const uploader = new ChunkUploader(store, 2);
    for (const c of [a, b, a, a]) await uploader.add(c, sha(c));
    await uploader.flush();
    expect([uploader.newChunks, uploader.newBytes]).toEqual([1, 100]);
    expect(await store.get(chunkKey(sha(a)))).toEqual(a);
    expect(await store.list('chunks/')).toHaveLength(2);
  });

  it('fails on the first upload that fails', async () => {
    const failing = Object.assign(Object.create(store) as LocalObjectStore, { put: async () => Promise.reject(new Error('disk on fire')) });
    const uploader = new ChunkUploader(failing, 1);
    const c = randomBytes(10);
    await uploader.add(c, sha(c));
    await expect(uploader.flush()).rejects.toThrow('disk on fire');
  });
});

describe('which snapshot restores a step', () => {
  it('is the latest at or before it, with the recorded steps since to re-run', () => {
    expect(chooseSnapshot([10, 20, 25], 20)).toEqual({ snapshot: 20, step: 20, exact: true, replay: [] });
    expect(chooseSnapshot([10, 20, 25], 23)).toEqual({ snapshot: 20, step: 23, exact: false, replay: [20, 21, 22] });
    expect(chooseSnapshot([10, 20, 25], 99)).toMatchObject({ snapshot: 25, exact: false });
    expect(chooseSnapshot([10], 3)).toEqual({ snapshot: null, step: 3, exact: false, replay: [0, 1, 2] });
    expect(chooseSnapshot([], 0)).toEqual({ snapshot: null, step: 0, exact: true, replay: [] });
    expect(() => chooseSnapshot([10], -1)).toThrow(/invalid step/);
  });

  it('reads the steps from the manifests in the store', async () => {
    for (const step of [30, 10, 20]) await store.put(manifestKey('r1', step), '{}');
    await store.put('runs/r1/snapshots/workspace.tar', 'old');
    await store.put(manifestKey('r2', 5), '{}');
    expect(stepOfKey(manifestKey('r1', 30))).toBe(30);
    expect(stepOfKey('runs/r1/snapshots/workspace.tar')).toBeUndefined();
    expect(await snapshotSteps(store, 'r1')).toEqual([10, 20, 30]);
    expect(await snapshotFor('r1', 25, store)).toMatchObject({ snapshot: 20, replay: [20, 21, 22, 23, 24] });
  });
});

/** Every entry of a tar stream: header fields and content. */
async function readTar(stream: Readable): Promise<{ name: string; type: string; mode: number; uid: number; linkname: string | null; data: Buffer }[]> {
  const out = [];
  const archive = extract();
  stream.on('error', (err) => archive.destroy(err));
  stream.pipe(archive as unknown as NodeJS.WritableStream);
  for await (const entry of archive) {
    const parts: Buffer[] = [];
    for await (const p of entry) parts.push(p as Buffer);
    const h = entry.header;
    out.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, linkname: h.linkname ?? null, data: Buffer.concat(parts) });
  }
  return out;
}

describe('restoring a manifest as a tar stream', () => {
  const base = { uid: 1000, gid: 1000, mtime: 1700000000 };

  async function stored(data: Buffer, size: number): Promise<string[]> {
    const uploader = new ChunkUploader(store);
    const { hashes } = await chunkStream(pieces(data, [size]), size, (c, h) => uploader.add(c, h));
    await uploader.flush();
    return hashes;
  }

  it('streams every entry in order with its content, owner and mode (a 000 stays 000)', async () => {
    const big = randomBytes(10_000);
    const entries: ManifestEntry[] = [
      { ...base, path: 'src', type: 'directory', mode: 0o755 },
      { ...base, path: 'src/big.bin', type: 'file', mode: 0o600, size: big.length, chunks: await stored(big, 4096), stat: '' },
      { ...base, path: 'src/empty', type: 'file', mode: 0o644, size: 0, chunks: [], stat: '' },
      { ...base, path: 'locked', type: 'file', mode: 0, size: 3, chunks: await stored(Buffer.from('abc'), 4096), stat: '' },
      { ...base, path: 'link', type: 'symlink', mode: 0o777, target: 'src/big.bin' },
      { ...base, path: 'pipe', type: 'fifo', mode: 0o600 },
    ];
    const out = await readTar(manifestArchive(store, { entries }));
    expect(out.map((e) => [e.name, e.type, e.mode, e.uid])).toEqual([
      ['src', 'directory', 0o755, 1000],
      ['src/big.bin', 'file', 0o600, 1000],
      ['src/empty', 'file', 0o644, 1000],
      ['locked', 'file', 0, 1000],
      ['link', 'symlink', 0o777, 1000],
      ['pipe', 'fifo', 0o600, 1000],
    ]);
    expect(out[1]!.data.equals(big)).toBe(true);
    expect(out[3]!.data.toString()).toBe('abc');
    expect(out[4]!.linkname).toBe('src/big.bin');
  });

  it('fails on a chunk that is missing or corrupt instead of restoring wrong bytes', async () => {
    const [hash] = await stored(Buffer.from('hello'), 4096);
    const entry = { ...base, path: 'f', type: 'file' as const, mode: 0o644, size: 5, chunks: [hash!], stat: '' };
    writeFileSync(store.file(chunkKey(hash!)), 'HELLO');
    await expect(readTar(manifestArchive(store, { entries: [entry] }))).rejects.toThrow(/corrupt/);
    await store.delete(chunkKey(hash!));
    await expect(readTar(manifestArchive(store, { entries: [entry] }))).rejects.toThrow(/missing/);
  });
});

describe('retention', () => {
  it('deletes an unnamed chunk only after it stayed unnamed for the grace period', () => {
    const referenced = new Set(['chunks/aa/a']);
    const all = ['chunks/aa/a', 'chunks/bb/b', 'chunks/cc/c'];
    const first = sweepPlan(all, referenced, {}, 1000, 100);
    expect(first).toEqual({ remove: [], keep: { 'chunks/bb/b': 1000, 'chunks/cc/c': 1000 } });
    // b got named meanwhile (its manifest was written); c did not.
    const second = sweepPlan(all, new Set([...referenced, 'chunks/bb/b']), first.keep, 1100, 100);
    expect(second).toEqual({ remove: ['chunks/cc/c'], keep: {} });
  });

  it('sweeps the store: keeps every chunk a manifest names, deletes the rest on the second pass, and superseded whole-workspace archives', async () => {
    const named = Buffer.from('named');
    const orphan = Buffer.from('orphan');
    for (const c of [named, orphan]) await store.put(chunkKey(sha(c)), c);
    const manifest = {
      version: 1, runId: 'r1', step: 10, createdAt: '', chunkSize: 4096, taskData: false, parent: null,
      entries: [{ path: 'f', type: 'file', mode: 0o644, uid: 1000, gid: 1000, mtime: 0, size: 5, chunks: [sha(named)], stat: '' }],
      stats: { entries: 1, files: 1, fileBytes: 5, readFiles: 1, readBytes: 5, newChunks: 1, newBytes: 5, ms: 1 },
    };
    await store.put(manifestKey('r1', 10), JSON.stringify(manifest));
    await store.put('runs/r1/snapshots/workspace.tar', 'old format');
    await store.put('runs/r2/snapshots/workspace.tar', 'still the only one');

    const first = await sweepSnapshots(store, { now: 1000, graceMs: 100 });
    expect(first).toEqual({ chunks: 2, referenced: 1, deleted: 0, pending: 1, legacyArchives: 1 });
    expect(await store.has('runs/r1/snapshots/workspace.tar')).toBe(false);
    expect(await store.has('runs/r2/snapshots/workspace.tar')).toBe(true);
    const dry = await sweepSnapshots(store, { now: 2000, graceMs: 100, dryRun: true });
    expect(dry.deleted).toBe(1);
    expect(await store.has(chunkKey(sha(orphan)))).toBe(true);
    const second = await sweepSnapshots(store, { now: 2000, graceMs: 100 });
    expect(second).toMatchObject({ deleted: 1, pending: 0 });
    expect(await store.has(chunkKey(sha(orphan)))).toBe(false);
    expect(await store.has(chunkKey(sha(named)))).toBe(true);
  });
});

describe('quota disks and streamed archives', () => {
  it('sizes the image for the quota plus the task data plus ext4 overhead, in whole MiB', () => {
    const gib = 2 ** 30;
    expect(imageBytes(1)).toBeGreaterThan(gib);
    expect(imageBytes(1)).toBeLessThan(1.2 * gib);
    expect(imageBytes(1, gib) - imageBytes(1)).toBeGreaterThanOrEqual(gib);
    expect(imageBytes(0.5) % 2 ** 20).toBe(0);
  });

  it('streams host files into a tar without reading them whole', async () => {
    const file = join(dir, 'data.bin');
    const data = randomBytes(300_000);
    writeFileSync(file, data);
    const out = await readTar(tarStream([
      { name: 'data', mode: 0o555, uid: 0, gid: 0 },
      { name: 'data/x.bin', file, mode: 0o444, uid: 0, gid: 0 },
      { name: 'data/note', content: 'hi', mode: 0o444, uid: 0, gid: 0 },
    ]));
    expect(out.map((e) => [e.name, e.type, e.mode])).toEqual([['data', 'directory', 0o555], ['data/x.bin', 'file', 0o444], ['data/note', 'file', 0o444]]);
    expect(out[1]!.data.equals(data)).toBe(true);
  });
});

describe('reading a workspace from the host', () => {
  it('lists entries depth first in name order, leaves out root-owned data, and opens only the very file it listed', async () => {
    const root = join(dir, 'ws');
    mkdirSync(join(root, 'b/sub'), { recursive: true });
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'b/sub/f.txt'), 'hello');
    writeFileSync(join(root, 'top.txt'), 'top');
    chmodSync(join(root, 'top.txt'), 0o600);
    symlinkSync('/etc/passwd', join(root, 'a/link'));
    mkdirSync(join(root, 'data')); // root-owned here (the tests run as root): the task's data
    const dev = statSync(root, { bigint: true }).dev;
    const { entries, taskData } = await listHost(root, dev);
    expect(taskData).toBe(process.getuid?.() === 0);
    expect(entries.filter((e) => e.path !== 'data').map((e) => [e.path, e.type])).toEqual([
      ['a', 'directory'], ['b', 'directory'], ['top.txt', 'file'], ['a/link', 'symlink'], ['b/sub', 'directory'], ['b/sub/f.txt', 'file'],
    ]);
    const top = entries.find((e) => e.path === 'top.txt')!;
    expect(top.mode).toBe(0o600);
    expect(top.mtime).toMatch(/^\d+\.\d{9}$/);
    expect(entries.find((e) => e.path === 'a/link')!.target).toBe('/etc/passwd');

    const f = entries.find((e) => e.path === 'b/sub/f.txt')!;
    const content = await openHostFile(root, dev, f);
    const parts: Buffer[] = [];
    for await (const p of content!) parts.push(p as Buffer);
    expect(Buffer.concat(parts).toString()).toBe('hello');
    // A link is never followed; a file replaced since the listing is not read; nor one on another device.
    expect(await openHostFile(root, dev, { path: 'a/link', ino: entries.find((e) => e.path === 'a/link')!.ino })).toBeUndefined();
    writeFileSync(join(root, 'other'), 'other');
    renameSync(join(root, 'other'), join(root, 'b/sub/f.txt'));
    expect(await openHostFile(root, dev, f)).toBeUndefined();
    expect(await openHostFile(root, dev + 1n, { path: 'top.txt', ino: top.ino })).toBeUndefined();
    expect((await listHost(root, dev + 1n)).entries).toEqual([]);
  });
});
