import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { docker, labels } from '../lib/sandbox/docker.js';
import { removeRunResources } from '../lib/sandbox/container.js';
import { devServerArgs, portAnswers, temporalCli } from '../lib/temporal/server.js';
import { sleep } from './stats.js';

/** The bench's own world: a temp MLGYM_HOME, a dev server on its own port, a task queue of its own. */
export interface BenchEnv {
  address: string;
  serverPid: number;
  queue: string;
  client: Client;
  /** Environment of a worker process serving this bench. */
  workerEnv: Record<string, string>;
  /** A run id unique to this bench invocation, so clean-up finds everything it made. */
  runId: (name: string) => string;
  close: () => Promise<void>;
}

export async function startBenchEnv(): Promise<BenchEnv> {
  // Resolve the CLI before MLGYM_HOME moves: the set-up's venv lives under the default home.
  process.env.MLGYM_TEMPORAL_CLI = temporalCli();
  const home = mkdtempSync(join(tmpdir(), 'mlgym-bench-'));
  process.env.MLGYM_HOME = home;
  const port = 21233 + Math.floor(Math.random() * 500);
  const server = await startServer(port, join(home, 'temporal.db'));
  const address = `127.0.0.1:${port}`;
  const client = new Client({ connection: await Connection.connect({ address }) });
  const tag = `bench-${randomBytes(3).toString('hex')}`;
  const queue = tag;
  return {
    address,
    serverPid: server.pid!,
    queue,
    client,
    workerEnv: { TEMPORAL_ADDRESS: address, MLGYM_TASK_QUEUE: queue, MLGYM_HOME: home, MLGYM_TEMPORAL_CLI: process.env.MLGYM_TEMPORAL_CLI },
    runId: (name) => `${tag}-${name}`,
    close: async () => {
      await client.connection.close();
      server.kill('SIGTERM');
      await removeLeftovers(tag);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function startServer(port: number, dbFile: string): Promise<ChildProcess> {
  const server = spawn(process.env.MLGYM_TEMPORAL_CLI!, devServerArgs({ port, uiPort: port + 1, dbFile }), { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(port))) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`the bench dev server did not start on port ${port}`);
    await sleep(200);
  }
  return server;
}

/** Containers and volumes of this bench's runs that a failed section left behind. */
async function removeLeftovers(tag: string): Promise<void> {
  const containers = await docker().listContainers({ all: true, filters: { label: [labels.run] } });
  const runIds = new Set(containers.map((c) => c.Labels[labels.run]!).filter((id) => id.startsWith(tag)));
  for (const id of runIds) await removeRunResources(id);
}
