import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../lib/run/types.js';
import { mlgym } from '../helpers/cli.js';
import { runInput, startRun } from '../helpers/runs.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess } from '../helpers/workerProcess.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** An OTLP/HTTP traces receiver on a free port: what the exporter posts (JSON), kept in order. */
async function startCollector(): Promise<{ url: string; exports: OtlpExport[]; server: Server }> {
  const exports: OtlpExport[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') exports.push(JSON.parse(body) as OtlpExport);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, exports, server };
}

describe('worker tracing with OpenTelemetry', () => {
  const t = useTestTemporal();
  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  afterAll(() => collector?.server.close());

  it('`mlgym worker` with MLGYM_OTEL_ENDPOINT traces a run: its workflow and activities, on both its queues, in one trace', async () => {
    collector = await startCollector();
    const tag = randomBytes(3).toString('hex');
    const queue = `tracing-${tag}`;
    const host = `tracing-host-${tag}`;
    const home = mkdtempSync(join(tmpdir(), 'mlgym-tracing-'));
    const worker = await startWorkerProcess({ MLGYM_TASK_QUEUE: queue, MLGYM_HOST_ID: host, MLGYM_OTEL_ENDPOINT: collector.url, MLGYM_HOME: home });
    const replay = join(home, 'actions.yaml');
    writeFileSync(replay, '- "echo traced"\n- exit_forfeit\n');
    const input = runInput('quickDilemma', `replay:${replay}`, { maxSteps: 3 });
    const result = (await (await startRun(t.client, queue, input)).result()) as RunResult;
    expect(result.exitStatus).toBe('exit_forfeit');
    // A graceful stop flushes the spans still batched.
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));

    const spans = collector.exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const named = (name: string) => spans.filter((s) => s.name === name);
    const [workflow] = named('RunWorkflow:agentRun');
    expect(workflow, spans.map((s) => s.name).join(', ')).toBeDefined();
    for (const name of ['StartActivity:provision', 'RunActivity:provision', 'RunActivity:agentTurn', 'StartActivity:toolExec', 'RunActivity:toolExec', 'RunActivity:teardown']) {
      expect(named(name).length, name).toBeGreaterThan(0);
      expect(named(name).every((s) => s.traceId === workflow!.traceId), `${name} in the run's trace`).toBe(true);
    }
    // toolExec ran on the host queue's worker and is a child of the workflow's StartActivity span.
    const started = new Set(named('StartActivity:toolExec').map((s) => s.spanId));
    expect(named('RunActivity:toolExec').every((s) => started.has(s.parentSpanId ?? ''))).toBe(true);
    const hosts = collector.exports.flatMap((e) => e.resourceSpans.map((r) => r.resource.attributes.find((a) => a.key === 'mlgym.host')?.value.stringValue));
    expect(new Set(hosts)).toEqual(new Set([host]));
  });

  it('refuses an endpoint that is not an http(s) URL with exit 2, before connecting', async () => {
    const bad = await mlgym({}, 'worker', '--otel-endpoint', 'localhost:4318');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--otel-endpoint (MLGYM_OTEL_ENDPOINT) expects an http(s) URL');
  });
});
