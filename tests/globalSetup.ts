import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import Docker from 'dockerode';
import { contentBuildId } from '../lib/temporal/deployment.js';
import { devServerArgs, portAnswers, temporalCli, temporalTestServer } from '../lib/temporal/server.js';
import { startS3Server, versitygwBinary } from './helpers/s3.js';

let server: ChildProcess | undefined;
let s3: ChildProcess | undefined;
let home: string | undefined;

/**
 * One real Temporal dev server for the whole suite (fresh database, test-only port), one S3-compatible
 * server (versitygw on a free port, a fresh folder; MLGYM_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY) and
 * a check that the Docker engine answers. Missing any is a failure, not a skip.
 */
export async function setup(): Promise<void> {
  // Two projects (training, integration) name this file; their tests share what the first call started.
  if (process.env.MLGYM_TEST_SUITE_HOME) return;
  await new Docker().ping().catch((err: Error) => {
    throw new Error(`the tests need a Docker engine (run \`npm run setup\`): ${err.message}`);
  });
  process.env.MLGYM_TEMPORAL_CLI = temporalCli();
  // One build for every worker of the suite, even one spawned after the code was edited mid-run.
  process.env.MLGYM_BUILD_ID ??= contentBuildId();
  // Found under the real MLGYM_HOME before the suite's replaces it. The replaced home reaches every project's
  // workers (vitest shares the main process's environment), so the workflow tier needs its test server named.
  const versitygw = versitygwBinary();
  process.env.MLGYM_TEMPORAL_TEST_SERVER = temporalTestServer();
  home = mkdtempSync(join(tmpdir(), 'mlgym-test-'));
  process.env.MLGYM_HOME = process.env.MLGYM_TEST_SUITE_HOME = home;
  const storage = await startS3Server(versitygw, join(home, 's3'));
  s3 = storage.process;
  Object.assign(process.env, { MLGYM_TEST_S3_ENDPOINT: storage.endpoint, MLGYM_TEST_S3_ACCESS_KEY: storage.accessKey, MLGYM_TEST_S3_SECRET_KEY: storage.secretKey });
  const port = 17233 + Math.floor(Math.random() * 1000);
  server = spawn(process.env.MLGYM_TEMPORAL_CLI, devServerArgs({ port, uiPort: port + 1, dbFile: join(home, 'temporal.db') }), { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(port))) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`the Temporal dev server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
}

export async function teardown(): Promise<void> {
  server?.kill('SIGTERM');
  s3?.kill('SIGTERM');
  if (home) rmSync(home, { recursive: true, force: true });
}
