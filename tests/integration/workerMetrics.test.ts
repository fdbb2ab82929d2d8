import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlgym } from '../helpers/cli.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

async function scrape(url: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await fetch(url).then((r) => (r.ok ? r.text() : ''), () => '');
    // Pollers report their slots once they poll: wait for the host queue's series too.
    if (text.includes('@metrics-')) return text;
    if (Date.now() > deadline) throw new Error(`no worker metrics at ${url}: ${text.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('worker metrics for Prometheus', () => {
  it('`mlgym worker` with MLGYM_METRICS serves the SDK metrics of both its queues, tagged with its host', async () => {
    const queue = `metrics-${randomBytes(3).toString('hex')}`;
    const host = `metrics-${randomBytes(3).toString('hex')}`;
    const port = await freePort();
    const worker = await startWorkerProcess({ MLGYM_TASK_QUEUE: queue, MLGYM_HOST_ID: host, MLGYM_METRICS: `127.0.0.1:${port}`, MLGYM_HOME: mkdtempSync(join(tmpdir(), 'mlgym-home-')) });
    try {
      const text = await scrape(`http://127.0.0.1:${port}/metrics`);
      const series = text.split('\n').filter((line) => line.startsWith('temporal_'));
      const shared = series.filter((line) => line.includes(`task_queue="${queue}"`));
      const onHost = series.filter((line) => line.includes(`task_queue="${queue}@${host}"`));
      expect(shared.length).toBeGreaterThan(0);
      expect(onHost.length).toBeGreaterThan(0);
      expect([...shared, ...onHost].every((line) => line.includes(`mlgym_host="${host}"`))).toBe(true);
      expect(series.some((line) => line.startsWith('temporal_worker_task_slots_available'))).toBe(true);
    } finally {
      await killHard(worker);
    }
  });

  it('refuses a metrics address that is not host:port with exit 2, before connecting', async () => {
    const bad = await mlgym({}, 'worker', '--metrics', '9464');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--metrics (MLGYM_METRICS) expects host:port');
  });
});
