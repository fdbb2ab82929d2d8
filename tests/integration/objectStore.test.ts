import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { LocalObjectStore, openObjectStore, type ObjectStore } from '../../lib/artifacts/objectStore.js';
import { S3ObjectStore } from '../../lib/artifacts/s3ObjectStore.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { s3Env, testS3Store } from '../helpers/s3.js';

const MiB = 1024 * 1024;

/** `total` bytes of seeded noise (an AES-CTR keystream) in 1 MiB chunks, made as they are read (never all in memory), and their hash. */
function noise(total: number, seed: string, opts: { failAfter?: number; onChunk?: (n: number) => Promise<void> } = {}) {
  const hash = createHash('sha256');
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  let sent = 0;
  let chunks = 0;
  const stream = new Readable({
    async read() {
      if (opts.failAfter !== undefined && sent >= opts.failAfter) return void this.destroy(new Error('the source failed'));
      if (sent >= total) return void this.push(null);
      await opts.onChunk?.(chunks++);
      const chunk = cipher.update(zeros.subarray(0, Math.min(MiB, total - sent)));
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function hashOf(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hex: hash.digest('hex'), bytes };
}

const BAD_KEYS = ['', '/a', 'a/', 'a//b', '../x', 'a/../b', './a', 'a/.', 'a b', 'ä', 'a\\b', 'a?b', 'a\nb'];

const backends: [string, () => Promise<ObjectStore>][] = [
  ['a local folder', async () => new LocalObjectStore(mkdtempSync(join(tmpdir(), 'mlgym-objects-')))],
  ['S3-compatible storage (versitygw)', async () => testS3Store(`contract-${randomBytes(4).toString('hex')}`, 'some/prefix')],
];

describe.each(backends)('the object store contract on %s', (_name, open) => {
  let store: ObjectStore;
  const ready = (async () => (store = await open()))();

  it('puts and gets strings, buffers and empty bodies; a put replaces the whole object', async () => {
    await ready;
    await store.put('runs/r1/steps/0001.json', '{"step":1}');
    expect((await store.get('runs/r1/steps/0001.json'))?.toString()).toBe('{"step":1}');
    await store.put('runs/r1/steps/0001.json', Buffer.from('x'));
    expect((await store.get('runs/r1/steps/0001.json'))?.toString()).toBe('x');
    await store.put('empty', Buffer.alloc(0));
    expect(await store.get('empty')).toEqual(Buffer.alloc(0));
    expect(await store.has('empty')).toBe(true);
    expect(await store.get('absent/key')).toBeUndefined();
    expect(await store.getStream('absent/key')).toBeUndefined();
    expect(await store.has('absent/key')).toBe(false);
  });

  it('streams a 64 MiB body in and out without holding it whole', async () => {
    await ready;
    const body = noise(64 * MiB, 'big');
    await store.put('big/body.bin', body.stream);
    const back = await hashOf((await store.getStream('big/body.bin'))!);
    expect(back).toEqual({ hex: body.digest(), bytes: 64 * MiB });
    if (store instanceof S3ObjectStore) {
      // A multipart upload (its ETag ends in -<parts>): the body went up in 8 MiB parts, not as one buffer.
      const { S3Client, HeadObjectCommand } = await import('@aws-sdk/client-s3');
      const env = s3Env(store.bucket);
      const client = new S3Client({ endpoint: env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } });
      const head = await client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: `${store.prefix}big/body.bin` }));
      expect(head.ETag).toMatch(/-8"?$/);
      client.destroy();
    }
    expect(await store.list('big/')).toEqual(['big/body.bin']);
  });

  it('is atomic: readers see the old object until a streamed put completes, and a failed put leaves nothing', async () => {
    await ready;
    await store.put('atomic/k', 'old');
    const seen: string[] = [];
    const slow = noise(24 * MiB, 'slow', {
      onChunk: async (n) => {
        if (n % 4 === 2) {
          seen.push((await store.get('atomic/k'))!.toString());
          seen.push((await store.list('atomic/')).join(','));
        }
      },
    });
    await store.put('atomic/k', slow.stream);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['old', 'atomic/k']));
    expect((await store.get('atomic/k'))!.length).toBe(24 * MiB);

    await store.put('atomic/fail', 'before');
    const failing = noise(30 * MiB, 'fail', { failAfter: 20 * MiB });
    await expect(store.put('atomic/fail', failing.stream)).rejects.toThrow();
    expect((await store.get('atomic/fail'))?.toString()).toBe('before');
    await expect(store.put('atomic/never', noise(30 * MiB, 'never', { failAfter: 12 * MiB }).stream)).rejects.toThrow();
    expect(await store.has('atomic/never')).toBe(false);
    expect(await store.list('atomic/')).toEqual(['atomic/fail', 'atomic/k']);
  });

  it('lists keys by prefix, sorted', async () => {
    await ready;
    for (const key of ['l/b/2', 'l/a/1', 'l/ab/3', 'l/a/0', 'm/x']) await store.put(key, key);
    expect(await store.list('l/a/')).toEqual(['l/a/0', 'l/a/1']);
    expect(await store.list('l/a')).toEqual(['l/a/0', 'l/a/1', 'l/ab/3']);
    expect(await store.list('l/')).toEqual(['l/a/0', 'l/a/1', 'l/ab/3', 'l/b/2']);
    expect(await store.list('nothing/')).toEqual([]);
    expect(await store.list('')).toEqual(expect.arrayContaining(['l/a/0', 'm/x', 'empty']));
  });

  it('deletes, and deleting an absent key is no error', async () => {
    await ready;
    await store.put('d/k', 'v');
    await store.delete('d/k');
    expect(await store.has('d/k')).toBe(false);
    expect(await store.get('d/k')).toBeUndefined();
    expect(await store.list('d/')).toEqual([]);
    await store.delete('d/k');
  });

  it('refuses keys that are not plain relative paths', async () => {
    await ready;
    for (const key of BAD_KEYS) {
      await expect(store.put(key, 'x'), key).rejects.toThrow(/invalid artifact key/);
      await expect(store.get(key), key).rejects.toThrow(/invalid artifact key/);
      await expect(store.has(key), key).rejects.toThrow(/invalid artifact key/);
      await expect(store.delete(key), key).rejects.toThrow(/invalid artifact key/);
    }
    await expect(store.list('../')).rejects.toThrow(/invalid artifact key/);
  });

  it('keeps per-run records for the ArtifactStore: once, list, log, hasRun', async () => {
    await ready;
    const artifacts = new ArtifactStore(store);
    let computed = 0;
    const compute = async () => ({ n: ++computed });
    expect(await artifacts.once('run-a', 'steps/0000.turn.json', compute)).toEqual({ n: 1 });
    expect(await artifacts.once('run-a', 'steps/0000.turn.json', compute)).toEqual({ n: 1 });
    await artifacts.writeJson('run-a', 'steps/0000.obs.json', { step: 0 });
    await artifacts.writeJson('run-a', 'tools/literature/q.json', {});
    expect(await artifacts.list('run-a', 'steps')).toEqual(['0000.obs.json', '0000.turn.json']);
    expect(await artifacts.list('run-a', '')).toEqual(expect.arrayContaining(['steps', 'tools']));
    expect(await artifacts.list('run-a', 'none')).toEqual([]);
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.now()); // every batch in one millisecond: order by more than time
    await Promise.all(Array.from({ length: 50 }, (_, i) => artifacts.log('run-a', `line ${i}`)));
    await artifacts.log('run-a', 'last');
    now.mockRestore();
    const log = (await artifacts.readLog('run-a')).trimEnd().split('\n');
    expect(log.map((l) => l.replace(/^\S+ /, ''))).toEqual([...Array.from({ length: 50 }, (_, i) => `line ${i}`), 'last']);
    expect((await artifacts.list('run-a', 'log')).length).toBeLessThanOrEqual(3); // batched
    expect(await artifacts.hasRun('run-a')).toBe(true);
    expect(await artifacts.hasRun('run-b')).toBe(false);
    expect(artifacts.where('run-a')).toBe(store instanceof LocalObjectStore ? join(store.root, 'runs', 'run-a') : `${store.location}/runs/run-a`);
    expect(() => artifacts.key('../x', 'a')).toThrow(/invalid run id/);
  });
});

describe('MLGYM_ARTIFACTS', () => {
  it('chooses the backend: unset, the folder under MLGYM_HOME; s3://, S3 with the standard AWS variables; a path, that folder', () => {
    const home = mkdtempSync(join(tmpdir(), 'mlgym-home-'));
    const local = openObjectStore({ MLGYM_HOME: home });
    expect(local).toBeInstanceOf(LocalObjectStore);
    expect(local.location).toBe(join(home, 'artifacts'));
    const s3 = openObjectStore(s3Env('my-bucket', 'team/runs'));
    expect(s3).toBeInstanceOf(S3ObjectStore);
    expect(s3.location).toBe('s3://my-bucket/team/runs');
    expect(openObjectStore({ MLGYM_ARTIFACTS: '/srv/artifacts' }).location).toBe('/srv/artifacts');
    expect(() => openObjectStore({ MLGYM_ARTIFACTS: 's3://Bad_Bucket/x' })).toThrow(/s3:\/\/bucket\/prefix/);
    expect(() => openObjectStore({ MLGYM_ARTIFACTS: 'relative/dir' })).toThrow(/MLGYM_ARTIFACTS/);
    expect(readdirSync(home)).toEqual([]); // opening writes nothing
  });
});
