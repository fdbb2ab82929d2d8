import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mlgymHome } from '../home.js';
import { devServerArgs, portAnswers, DEFAULT_PORT, temporalCli } from '../temporal/server.js';
import { connectWorker } from '../temporal/client.js';
import { ensureServer } from '../temporal/server.js';
import { createWorker } from '../../worker.js';
import { say, UsageError } from './output.js';

/** `mlgym server`: the embedded dev server in the foreground. */
export async function serverCommand(): Promise<number> {
  if (process.env.TEMPORAL_ADDRESS) throw new UsageError(`TEMPORAL_ADDRESS is set (${process.env.TEMPORAL_ADDRESS}): nothing to start`);
  if (await portAnswers(DEFAULT_PORT)) throw new UsageError(`a server already answers on port ${DEFAULT_PORT}`);
  mkdirSync(mlgymHome(), { recursive: true });
  say(`Temporal dev server on 127.0.0.1:${DEFAULT_PORT}, Web UI http://localhost:${DEFAULT_PORT + 1000}`);
  const child = spawn(temporalCli(), devServerArgs(), { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

/** `mlgym worker`: a worker process for the mlgym task queue, until interrupted. */
export async function workerCommand(): Promise<number> {
  const server = await ensureServer();
  const worker = await createWorker(await connectWorker(server.address));
  say(`worker polling on ${server.address}; Ctrl-C to stop`);
  await worker.run();
  return 0;
}
