import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mlgymHome } from '../lib/home.js';
import { devServerArgs, portAnswers, DEFAULT_PORT, temporalCli } from '../lib/temporal/server.js';
import { GPU_TASK_QUEUE, hostTaskQueue, TASK_QUEUE } from '../lib/temporal/client.js';
import { hostGpus } from '../lib/sandbox/gpus.js';
import { ensureServer } from '../lib/temporal/server.js';
import { temporalSettings } from '../lib/temporal/connection.js';
import { metricsAddress, otelEndpoint, startWorker } from './worker.js';
import { workerVersionLine, workerVersionOptions } from './deployment.js';
import { say, UsageError } from './output.js';

/** `mlgym server`: the embedded dev server in the foreground. */
export async function serverCommand(): Promise<number> {
  const { address } = temporalSettings();
  if (address) throw new UsageError(`the connection settings name a Temporal server (${address}, TEMPORAL_ADDRESS or a profile): nothing to start`);
  if (await portAnswers(DEFAULT_PORT)) throw new UsageError(`a server already answers on port ${DEFAULT_PORT}`);
  mkdirSync(mlgymHome(), { recursive: true });
  say(`Temporal dev server on 127.0.0.1:${DEFAULT_PORT}, Web UI http://localhost:${DEFAULT_PORT + 1000}`);
  const child = spawn(temporalCli(), devServerArgs(), { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

/**
 * `mlgym worker [--gpus 0,1]`: poll the mlgym task queue, or with GPUs, the GPU queue, allotting
 * those GPUs to its runs without overlap; and the queue of this host (`<queue>@<MLGYM_HOST_ID or hostname>`),
 * where the container activities of the runs it provisioned come (docs/deploy.md).
 */
export async function workerCommand(opts: { gpus?: string; deployment?: string; buildId?: string; metrics?: string; otelEndpoint?: string } = {}): Promise<number> {
  const metrics = metricsAddress(opts.metrics ?? process.env.MLGYM_METRICS);
  const otel = otelEndpoint(opts.otelEndpoint ?? process.env.MLGYM_OTEL_ENDPOINT);
  workerVersionOptions(opts); // --deployment, --build-id: the Worker Deployment version it joins (docs/versioning.md)
  if (opts.gpus !== undefined) {
    process.env.MLGYM_GPUS = opts.gpus;
    if (!hostGpus().length) throw new UsageError(`--gpus expects GPU ids such as 0,1 (as nvidia-smi numbers them), got "${opts.gpus}"`);
  }
  const taskQueue = opts.gpus !== undefined ? GPU_TASK_QUEUE : TASK_QUEUE;
  const server = await ensureServer();
  const worker = await startWorker(server.address, taskQueue, metrics, otel);
  say(await workerVersionLine(server.address));
  say(`worker polling ${taskQueue} and its host's queue ${hostTaskQueue(taskQueue)} on ${server.address}${opts.gpus !== undefined ? ` with GPUs ${hostGpus().join(', ')}` : ''}${metrics ? `, Prometheus metrics on http://${metrics}/metrics` : ''}${otel ? `, traces to ${otel}` : ''}; Ctrl-C to stop`);
  await worker.run();
  return 0;
}
