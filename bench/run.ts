// `npm run bench`: measures the durable path on the embedded defaults and writes bench/results/.
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measureConcurrency } from './concurrency.js';
import { startBenchEnv } from './env.js';
import { measureHistory } from './history.js';
import { measureOverhead } from './overhead.js';
import { measureProvisioning } from './provisioning.js';
import { measureRecovery } from './recovery.js';
import { renderMarkdown, writeResults, type BenchResults } from './report.js';
import { round } from './stats.js';
import { startBenchWorker } from './worker.js';

const OVERHEAD = { runs: 5, steps: 30 };
const PROVISION_TRIES = 3;
const CONCURRENCY = { levels: [1, 4, 16, 32], steps: 10 };
const RECOVERY = { heartbeatTimeoutS: 5, kills: 3 };
const HISTORY = { steps: 120, continueEvery: 50 };
const TARGETS = { maxDurableVsExec: 2, concurrentRuns: 32, maxWorkerMbPerRun: 20, resumeSlackS: 5 };

const started = performance.now();
const load: Record<string, number[]> = { start: loadavg() };
const progress = (what: string) => {
  load[what] = loadavg();
  console.error(`[bench] ${what} done after ${round((performance.now() - started) / 1000, 0)} s, load ${load[what]!.map((v) => round(v)).join('/')}`);
};

const env = await startBenchEnv();
try {
  const provisioning = await measureProvisioning(env, PROVISION_TRIES);
  progress('provisioning');
  const worker = await startBenchWorker(env);
  const overhead = await measureOverhead(env, worker, OVERHEAD.runs, OVERHEAD.steps).finally(() => progress('overhead'));
  const history = await measureHistory(env, HISTORY.steps, HISTORY.continueEvery).finally(() => worker.kill());
  progress('history');
  const concurrency = await measureConcurrency(env, CONCURRENCY.levels, CONCURRENCY.steps);
  progress('concurrency');
  const kills = await measureRecovery(env, RECOVERY.heartbeatTimeoutS, RECOVERY.kills);
  progress('recovery');
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGb: round(totalmem() / 2 ** 30, 1), node: process.version, loadavg: load },
    targets: TARGETS,
    overhead,
    provisioning,
    concurrency,
    recovery: { heartbeatTimeoutS: RECOVERY.heartbeatTimeoutS, kills },
    history,
    elapsedS: (performance.now() - started) / 1000,
  };
  const files = writeResults(results, fileURLToPath(new URL('./results/', import.meta.url)));
  process.stdout.write(renderMarkdown(results));
  console.error(`[bench] wrote ${files.join(', ')}`);
} finally {
  await env.close();
}
