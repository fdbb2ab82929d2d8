import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { mlgymHome } from '../home.js';
import { S3ObjectStore, s3Settings } from './s3ObjectStore.js';

/**
 * Where artifacts live: keys are `/`-separated paths such as `runs/<runId>/steps/0003.json`. Every put is
 * atomic (a reader sees the whole object or none) and bodies stream, so an object may be larger than memory.
 */
export interface ObjectStore {
  /** Where it is, for messages: a folder or `s3://bucket/prefix`. */
  readonly location: string;
  put(key: string, body: Buffer | string | Readable): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  getStream(key: string): Promise<Readable | undefined>;
  has(key: string): Promise<boolean>;
  /** Keys that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function checkKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) throw new Error(`invalid artifact key "${key}"`);
  return key;
}

/** A prefix to list: empty, a key, or a key followed by `/`. */
export function checkPrefix(prefix: string): string {
  if (prefix !== '') checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/**
 * The artifact store's backend, from MLGYM_ARTIFACTS: unset, a local folder (MLGYM_HOME/artifacts); `s3://bucket/prefix`,
 * S3-compatible object storage (endpoint, region and keys from the standard AWS variables: AWS_ENDPOINT_URL(_S3),
 * AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); an absolute path or `file:///path`, that folder.
 */
export function openObjectStore(env: NodeJS.ProcessEnv = process.env): ObjectStore {
  const spec = env.MLGYM_ARTIFACTS?.trim();
  if (!spec) return new LocalObjectStore(join(env.MLGYM_HOME ? resolve(env.MLGYM_HOME) : mlgymHome(), 'artifacts'));
  if (spec.startsWith('s3://')) return new S3ObjectStore(spec, s3Settings(env));
  if (spec.startsWith('file://')) return new LocalObjectStore(fileURLToPath(spec));
  if (isAbsolute(spec)) return new LocalObjectStore(spec);
  throw new Error(`MLGYM_ARTIFACTS must be s3://bucket/prefix or an absolute folder, got "${spec}"`);
}

/** A folder on this host (the default: MLGYM_HOME/artifacts). */
export class LocalObjectStore implements ObjectStore {
  constructor(readonly root: string = join(mlgymHome(), 'artifacts')) {}

  get location(): string {
    return this.root;
  }

  file(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: Buffer | string | Readable): Promise<void> {
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await pipeline(typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    return readFile(this.file(key)).catch(absentAsUndefined);
  }

  async getStream(key: string): Promise<Readable | undefined> {
    const file = this.file(key);
    return (await this.has(key)) ? createReadStream(file) : undefined;
  }

  async has(key: string): Promise<boolean> {
    return stat(this.file(key)).then((s) => s.isFile(), () => false);
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const dir = base ? this.file(base) : this.root;
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(absentAsUndefined);
    return (entries ?? [])
      .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}

function absentAsUndefined(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}
