import type { Worker } from '@temporalio/worker';
import { hostId } from '../lib/temporal/client.js';
import { connectionOptions } from '../lib/temporal/connection.js';
import { UsageError } from './output.js';

let runtimeInstalled = false;

/** `--metrics` / MLGYM_METRICS: where a worker serves its Prometheus metrics (`host:port`, scraped at /metrics). */
export function metricsAddress(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(value)) throw new UsageError(`--metrics (MLGYM_METRICS) expects host:port to serve Prometheus metrics on, e.g. 0.0.0.0:9464, got "${value}"`);
  return value;
}

/** `--otel-endpoint` / MLGYM_OTEL_ENDPOINT: the OTLP/HTTP traces endpoint a worker sends its spans to. */
export function otelEndpoint(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!URL.canParse(value) || !['http:', 'https:'].includes(new URL(value).protocol)) throw new UsageError(`--otel-endpoint (MLGYM_OTEL_ENDPOINT) expects an http(s) URL of an OTLP traces endpoint, e.g. http://localhost:4318/v1/traces, got "${value}"`);
  return value;
}

/**
 * A worker of this process on `taskQueue`. The worker runtime (a native addon and the workflow bundler)
 * is loaded only here, so commands that run no workflow start without it. The runtime is installed once per
 * process: `metrics` (host:port) given to the first call makes it serve the SDK's worker metrics for
 * Prometheus there, every series tagged with this host's id. With `otel` (an OTLP/HTTP traces URL), every workflow
 * and activity is traced there (lib/temporal/tracing.ts).
 */
export async function startWorker(address: string, taskQueue: string, metrics?: string, otel?: string): Promise<Worker> {
  const { DefaultLogger, NativeConnection, Runtime } = await import('@temporalio/worker');
  if (!runtimeInstalled) {
    // Worker chatter (bundling, state changes) stays out of the CLI's output; warnings still show.
    const telemetryOptions = metrics ? { metrics: { prometheus: { bindAddress: metrics }, globalTags: { mlgym_host: hostId() } } } : undefined;
    Runtime.install({ logger: new DefaultLogger('WARN'), ...(telemetryOptions ? { telemetryOptions } : {}) });
    runtimeInstalled = true;
  }
  const { createWorker } = await import('../worker.js');
  const tracing = otel ? (await import('../lib/temporal/tracing.js')).tracingWorkerOptions(otel, hostId()) : {};
  return createWorker(await NativeConnection.connect(connectionOptions(address)), { taskQueue, ...tracing });
}
