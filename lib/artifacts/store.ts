import { mkdir, readFile, rename, writeFile, readdir, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mlgymHome } from '../home.js';
import { isId } from '../run/ids.js';

/** Per-run files under MLGYM_HOME/artifacts/runs/<runId>: trajectory steps, attempts, results, logs. */
export class ArtifactStore {
  constructor(readonly root: string = join(mlgymHome(), 'artifacts')) {}

  runDir(runId: string): string {
    if (!isId(runId)) throw new Error(`invalid run id "${runId}"`);
    return join(this.root, 'runs', runId);
  }

  path(runId: string, name: string): string {
    return join(this.runDir(runId), name);
  }

  /** Write atomically (temp file + rename), so a crash never leaves a half-written record. */
  async write(runId: string, name: string, data: string | Buffer): Promise<string> {
    const file = this.path(runId, name);
    await mkdir(join(file, '..'), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
    return file;
  }

  async writeJson(runId: string, name: string, value: unknown): Promise<string> {
    return this.write(runId, name, JSON.stringify(value, null, 2));
  }

  async readJson<T>(runId: string, name: string): Promise<T | undefined> {
    const data = await this.readBuffer(runId, name);
    return data === undefined ? undefined : (JSON.parse(data.toString('utf8')) as T);
  }

  async readBuffer(runId: string, name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(runId, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Return the stored record for `name`, or compute, store and return it: the idempotency primitive. */
  async once<T>(runId: string, name: string, compute: () => Promise<T>): Promise<T> {
    const stored = await this.readJson<T>(runId, name);
    if (stored !== undefined) return stored;
    const value = await compute();
    await this.writeJson(runId, name, value);
    return value;
  }

  async list(runId: string, dir: string): Promise<string[]> {
    try {
      return (await readdir(this.path(runId, dir))).filter((f) => !f.endsWith('.tmp')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async log(runId: string, line: string): Promise<void> {
    await mkdir(this.runDir(runId), { recursive: true });
    await appendFile(this.path(runId, 'run.log'), `${new Date().toISOString()} ${line}\n`);
  }
}
