import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isId } from '../run/ids.js';
import { LocalObjectStore, openObjectStore, type ObjectStore } from './objectStore.js';

/** The log lines of a run are objects under `runs/<runId>/log/`, one per batch, named so that they sort by time. */
const LOG_DIR = 'log';
/** Orders this process's batches written within the same millisecond (a random suffix alone would not). */
let batches = 0;
const nextBatch = () => (batches++).toString().padStart(10, '0');

/**
 * Per-run records under `runs/<runId>/` of an ObjectStore (MLGYM_ARTIFACTS: a local folder by default, or
 * S3-compatible storage shared by every worker host): trajectory steps, attempts, results, model calls, logs.
 * Every record is written whole and atomically, so a crash never leaves a half-written one.
 */
export class ArtifactStore {
  readonly objects: ObjectStore;
  /** Log lines waiting to be written, by run: the next batch collects while the last one is written. */
  private readonly logs = new Map<string, { lines: string[]; batch?: Promise<void>; writing: Promise<void> }>();

  /** `objects` is the backend, or a folder for a local one; the default follows MLGYM_ARTIFACTS. */
  constructor(objects: ObjectStore | string = openObjectStore()) {
    this.objects = typeof objects === 'string' ? new LocalObjectStore(objects) : objects;
  }

  /** Where the records are, for messages: a folder or `s3://bucket/prefix`. */
  get location(): string {
    return this.objects.location;
  }

  /** The folder of a local store (from when the store was always one); other backends throw: use `objects` or `location`. */
  get root(): string {
    if (!(this.objects instanceof LocalObjectStore)) throw new Error(`the artifact store is ${this.location}, not a local folder: use its objects`);
    return this.objects.root;
  }

  /** The object key of a run's record `name` (e.g. `steps/0003.obs.json`). */
  key(runId: string, name = ''): string {
    if (!isId(runId)) throw new Error(`invalid run id "${runId}"`);
    return name ? `runs/${runId}/${name}` : `runs/${runId}`;
  }

  /** Where a run's records are, for messages and reports: `<location>/runs/<runId>`. */
  where(runId: string): string {
    const key = this.key(runId);
    return this.objects instanceof LocalObjectStore ? this.objects.file(key) : `${this.location}/${key}`;
  }

  /**
   * The file of a record when the store is a local folder: only for tests that watch records appear on disk.
   * Throws for any other backend.
   */
  localFile(runId: string, name: string): string {
    if (!(this.objects instanceof LocalObjectStore)) throw new Error(`the artifact store is ${this.location}, not a local folder`);
    return this.objects.file(this.key(runId, name));
  }

  /** Whether the store holds any record of the run. */
  async hasRun(runId: string): Promise<boolean> {
    return isId(runId) && (await this.objects.list(`${this.key(runId)}/`)).length > 0;
  }

  /** Write a record whole and atomically; returns its key. */
  async write(runId: string, name: string, data: string | Buffer | Readable): Promise<string> {
    const key = this.key(runId, name);
    await this.objects.put(key, data);
    return key;
  }

  async writeJson(runId: string, name: string, value: unknown): Promise<string> {
    return this.write(runId, name, JSON.stringify(value, null, 2));
  }

  async readJson<T>(runId: string, name: string): Promise<T | undefined> {
    const data = await this.readBuffer(runId, name);
    return data === undefined ? undefined : (JSON.parse(data.toString('utf8')) as T);
  }

  async readBuffer(runId: string, name: string): Promise<Buffer | undefined> {
    return this.objects.get(this.key(runId, name));
  }

  /** A record as a stream (for records larger than memory), undefined when absent. */
  async readStream(runId: string, name: string): Promise<Readable | undefined> {
    return this.objects.getStream(this.key(runId, name));
  }

  /** Return the stored record for `name`, or compute, store and return it: the idempotency primitive. */
  async once<T>(runId: string, name: string, compute: () => Promise<T>): Promise<T> {
    const stored = await this.readJson<T>(runId, name);
    if (stored !== undefined) return stored;
    const value = await compute();
    await this.writeJson(runId, name, value);
    return value;
  }

  /** The entries of a run's folder `dir`, as a directory listing shows them: record names and sub-folders, sorted. */
  async list(runId: string, dir: string): Promise<string[]> {
    const prefix = `${this.key(runId, dir.replace(/\/+$/, ''))}/`;
    const names = new Set((await this.objects.list(prefix)).map((key) => key.slice(prefix.length).split('/')[0]!));
    return [...names].filter((name) => !name.endsWith('.tmp')).sort();
  }

  /**
   * Append a line to the run's log. Lines are batched: while one batch is written the next collects, and each
   * batch is an object of its own (no read-modify-write, so workers on several hosts never lose each other's
   * lines). Best effort: a failure to write the log is reported on stderr, never thrown into the run.
   */
  async log(runId: string, line: string): Promise<void> {
    const key = this.key(runId);
    let queue = this.logs.get(key);
    if (!queue) this.logs.set(key, (queue = { lines: [], writing: Promise.resolve() }));
    queue.lines.push(`${new Date().toISOString()} ${line}\n`);
    if (!queue.batch) {
      const q = queue;
      q.batch = q.writing.then(async () => {
        await Promise.resolve(); // lines logged in the same tick join this batch
        const text = q.lines.splice(0).join('');
        q.batch = undefined;
        const name = `${LOG_DIR}/${Date.now().toString().padStart(13, '0')}-${nextBatch()}-${randomBytes(4).toString('hex')}.log`;
        await this.write(runId, name, text).catch((err: Error) => {
          process.stderr.write(`mlgym: could not write to the log of ${runId} in ${this.location}: ${err.message}\n`);
        });
      });
      q.writing = q.batch;
    }
    const q = queue;
    await q.batch;
    if (this.logs.get(key) === q && !q.batch && !q.lines.length) this.logs.delete(key);
  }

  /** The run's log, its batches in time order. */
  async readLog(runId: string): Promise<string> {
    const parts = await Promise.all((await this.list(runId, LOG_DIR)).map((name) => this.readBuffer(runId, `${LOG_DIR}/${name}`)));
    return parts.map((p) => p?.toString('utf8') ?? '').join('');
  }
}
