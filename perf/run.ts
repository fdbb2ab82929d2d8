// `npm run bench`: measures the durable path on the embedded defaults and writes perf/results/.
import { appendFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measureConcurrency } from './concurrency.js';
import { startBenchEnv } from './env.js';
import { measureHistory } from './history.js';
import { largeBenchSection, measureLargeBench, type LargeBenchResult } from './largeBench.js';
import { measureOverhead } from './overhead.js';
import { measureProvisioning } from './provisioning.js';
import { measureRecovery } from './recovery.js';
import { renderMarkdown, writeResults, type BenchResults } from './report.js';
import { round } from './stats.js';
import { startBenchWorker } from './worker.js';
import { measureWorkspace, WORKSPACE_TARGETS, workspaceSection, type WorkspaceResult } from './workspace.js';

const OVERHEAD = { runs: 5, steps: 30 };
const PROVISION_TRIES = 3;
const CONCURRENCY = { levels: [1, 4, 16, 32], steps: 10 };
const RECOVERY = { heartbeatTimeoutS: 5, kills: 3 };
const HISTORY = { steps: 120, continueEvery: 50 };
const TARGETS = { maxDurableVsExec: 2, concurrentRuns: 32, maxWorkerMbPerRun: 20, resumeSlackS: 5 };
/** 4 × 1 GiB + 1024 × 1 MiB = 5 GiB of random data; then 10 MB changed. */
const WORKSPACE = { bigFiles: 4, smallFiles: 1024, changeMb: 10 };
/** Only with `--only largeBench` (about a quarter of an hour): a benchmark of 2,000 two-command replay runs. */
const LARGE_BENCH = { runs: Number(process.env.MLGYM_BENCH_RUNS ?? 2000), steps: 2, concurrency: 32 };

/** `--only overhead,history`: measure only these sections (a partial run does not replace latest.md). */
const DEFAULT_SECTIONS = ['provisioning', 'overhead', 'history', 'concurrency', 'recovery', 'workspace'] as const;
const SECTIONS = [...DEFAULT_SECTIONS, 'largeBench'] as const;
type Section = (typeof SECTIONS)[number];
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? (process.argv[onlyArg + 1] ?? '').split(',').filter(Boolean) : [...DEFAULT_SECTIONS];
const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
if (unknown.length || !only.length) {
  console.error(`usage: perf/run.ts [--only ${SECTIONS.join(',')}] (unknown: ${unknown.join(', ') || 'none given'})`);
  process.exit(2);
}
const wanted = (s: Section) => only.includes(s);
const partial = DEFAULT_SECTIONS.some((s) => !only.includes(s));

const started = performance.now();
const load: Record<string, number[]> = { start: loadavg() };
const progress = (what: string) => {
  load[what] = loadavg();
  console.error(`[bench] ${what} done after ${round((performance.now() - started) / 1000, 0)} s, load ${load[what]!.map((v) => round(v)).join('/')}`);
};

const env = await startBenchEnv();
try {
  const provisioning = wanted('provisioning') ? await measureProvisioning(env, PROVISION_TRIES) : undefined;
  if (provisioning) progress('provisioning');
  let overhead: BenchResults['overhead'];
  let history: BenchResults['history'];
  if (wanted('overhead') || wanted('history')) {
    const worker = await startBenchWorker(env);
    try {
      if (wanted('overhead')) overhead = await measureOverhead(env, worker, OVERHEAD.runs, OVERHEAD.steps).finally(() => progress('overhead'));
      if (wanted('history')) history = await measureHistory(env, HISTORY.steps, HISTORY.continueEvery);
    } finally {
      await worker.kill();
    }
    if (history) progress('history');
  }
  const concurrency = wanted('concurrency') ? await measureConcurrency(env, CONCURRENCY.levels, CONCURRENCY.steps) : undefined;
  if (concurrency) progress('concurrency');
  const kills = wanted('recovery') ? await measureRecovery(env, RECOVERY.heartbeatTimeoutS, RECOVERY.kills) : undefined;
  if (kills) progress('recovery');
  const workspace: WorkspaceResult | undefined = wanted('workspace') ? await measureWorkspace(env, WORKSPACE) : undefined;
  if (workspace) progress('workspace');
  const largeBench: LargeBenchResult | undefined = wanted('largeBench') ? await measureLargeBench(env, LARGE_BENCH.runs, LARGE_BENCH.steps, LARGE_BENCH.concurrency) : undefined;
  if (largeBench) progress('largeBench');
  const results: BenchResults & { workspace?: WorkspaceResult & { targets: typeof WORKSPACE_TARGETS }; largeBench?: LargeBenchResult } = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: round(totalmem() / 2 ** 30, 1), node: process.version, loadavg: load },
    targets: TARGETS,
    overhead,
    provisioning,
    concurrency,
    recovery: kills && { heartbeatTimeoutS: RECOVERY.heartbeatTimeoutS, kills },
    history,
    ...(workspace ? { workspace: { ...workspace, targets: WORKSPACE_TARGETS } } : {}),
    ...(largeBench ? { largeBench } : {}),
    elapsedS: (performance.now() - started) / 1000,
  };
  const files = writeResults(results, fileURLToPath(new URL('./results/', import.meta.url)), partial);
  // perf/report.ts renders sections 1-5; the workspace and large-benchmark sections are appended to what it wrote.
  const extra = [workspace && workspaceSection(workspace), largeBench && largeBenchSection(largeBench)].filter(Boolean).map((s) => `\n${s}\n`).join('');
  for (const file of files.filter((f) => f.endsWith('.md'))) appendFileSync(file, extra);
  process.stdout.write(renderMarkdown(results) + extra);
  console.error(`[bench] wrote ${files.join(', ')}`);
} finally {
  await env.close();
}
