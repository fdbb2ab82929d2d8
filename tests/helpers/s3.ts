import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { mlgymHome } from '../../lib/home.js';
import { S3ObjectStore, s3Settings } from '../../lib/artifacts/s3ObjectStore.js';
import { portAnswers } from '../../lib/temporal/server.js';

export const VERSITYGW_VERSION = 'v1.8.0';

/** The versitygw binary set-up builds (scripts/setup.sh), or MLGYM_VERSITYGW. Missing is an error, not a skip. */
export function versitygwBinary(home = mlgymHome()): string {
  const binary = process.env.MLGYM_VERSITYGW || join(home, `versitygw-${VERSITYGW_VERSION}`, 'versitygw');
  if (!existsSync(binary)) throw new Error(`the tests need versitygw (S3-compatible storage) at ${binary}: run \`npm run setup\``);
  return binary;
}

/** A free TCP port on the loopback interface (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface S3Server {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  process: ChildProcess;
}

/** versitygw serving the folder `dir` over S3 on a free loopback port; its log is `<dir>.log`. */
export async function startS3Server(binary: string, dir: string): Promise<S3Server> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const accessKey = 'mlgymtest';
  const secretKey = 'mlgymtestsecret';
  const log = openSync(`${dir}.log`, 'a');
  const child = spawn(binary, ['--port', `127.0.0.1:${port}`, 'posix', dir], {
    env: { ...process.env, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`versitygw did not start on port ${port}; see ${dir}.log`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint: `http://127.0.0.1:${port}`, accessKey, secretKey, process: child };
}

/** The environment of a process whose artifact store is `s3://bucket/prefix` on the suite's server (tests/globalSetup.ts). */
export function s3Env(bucket: string, prefix = ''): Record<string, string> {
  const endpoint = process.env.MLGYM_TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error('MLGYM_TEST_S3_ENDPOINT is not set: the integration tier\'s global set-up starts the S3 server');
  return {
    MLGYM_ARTIFACTS: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: process.env.MLGYM_TEST_S3_ACCESS_KEY!,
    AWS_SECRET_ACCESS_KEY: process.env.MLGYM_TEST_S3_SECRET_KEY!,
    AWS_REGION: 'us-east-1',
  };
}

/** An S3ObjectStore on the suite's server, its bucket created. */
export async function testS3Store(bucket: string, prefix = ''): Promise<S3ObjectStore> {
  const env = s3Env(bucket, prefix);
  const store = new S3ObjectStore(env.MLGYM_ARTIFACTS!, s3Settings(env));
  await store.ensureBucket();
  return store;
}
