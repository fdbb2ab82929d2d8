import { createHash } from 'node:crypto';
import type { ObjectStore } from '../artifacts/objectStore.js';
import { chunkKey } from './manifest.js';

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Cut a byte stream into chunks of exactly `size` bytes (the last one shorter) and hand each to
 * `sink` with its SHA-256, one at a time: memory holds one chunk being filled plus what the sink keeps.
 * Returns the chunk hashes in order and the byte count.
 */
export async function chunkStream(source: AsyncIterable<Buffer | Uint8Array>, size: number, sink: (chunk: Buffer, hash: string) => Promise<void>): Promise<{ hashes: string[]; bytes: number }> {
  const hashes: string[] = [];
  let bytes = 0;
  let buf = Buffer.allocUnsafe(size);
  let filled = 0;
  let hash = createHash('sha256');
  const flush = async () => {
    const chunk = buf.subarray(0, filled);
    const digest = hash.digest('hex');
    hashes.push(digest);
    // The sink may keep the chunk (an upload in flight): the next one gets a new buffer.
    buf = Buffer.allocUnsafe(size);
    filled = 0;
    hash = createHash('sha256');
    await sink(chunk, digest);
  };
  for await (const piece of source) {
    let data = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    bytes += data.length;
    while (data.length) {
      const n = Math.min(size - filled, data.length);
      data.copy(buf, filled, 0, n);
      hash.update(data.subarray(0, n));
      filled += n;
      data = data.subarray(n);
      if (filled === size) await flush();
    }
  }
  if (filled > 0) await flush();
  return { hashes, bytes };
}

/**
 * Stores chunks under their hash, skipping those already stored (by any run), with a few uploads in
 * flight at once. Memory: at most `maxInFlight` chunks.
 */
export class ChunkUploader {
  /** Chunks known to be in the store (checked or written by this uploader). */
  private readonly known = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  newChunks = 0;
  newBytes = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly maxInFlight = 4,
  ) {}

  async add(chunk: Buffer, hash: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.known.has(hash)) return;
    this.known.add(hash);
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const upload: Promise<void> = (async () => {
      const key = chunkKey(hash);
      if (await this.store.has(key)) return;
      await this.store.put(key, chunk);
      this.newChunks++;
      this.newBytes += chunk.length;
    })()
      .catch((err: unknown) => {
        this.known.delete(hash);
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(upload));
    this.inFlight.add(upload);
  }

  /** Wait for every upload; throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}

/** Chunks of a manifest's files, in order, fetched a few ahead and checked against their hash. */
export async function* chunkBuffers(store: ObjectStore, hashes: string[], ahead = 4): AsyncGenerator<Buffer> {
  const fetch = (hash: string) => {
    const got = (async () => {
      const data = await store.get(chunkKey(hash));
      if (!data) throw new Error(`snapshot chunk ${hash} is missing from the artifact store`);
      if (sha256(data) !== hash) throw new Error(`snapshot chunk ${hash} is corrupt (its content has another hash)`);
      return data;
    })();
    got.catch(() => undefined); // fetched ahead: its failure is thrown when its turn comes
    return got;
  };
  const queue: Promise<Buffer>[] = [];
  let next = 0;
  while (next < hashes.length && queue.length < ahead) queue.push(fetch(hashes[next++]!));
  while (queue.length) {
    const data = await queue.shift()!;
    if (next < hashes.length) queue.push(fetch(hashes[next++]!));
    yield data;
  }
}
