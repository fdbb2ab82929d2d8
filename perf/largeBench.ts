import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchmarkResult, BenchSpec } from '../lib/bench/types.js';
import { mlgymHome } from '../lib/home.js';
import type { BenchEnv } from './env.js';
import { cpuMs, sampler } from './proc.js';
import { TASK, trivialCommands } from './runs.js';
import { round, timed } from './stats.js';
import { readHistory } from './timeline.js';
import { startBenchWorker } from './worker.js';

export interface LargeBenchResult {
  runs: number;
  stepsPerRun: number;
  concurrency: number;
  wallS: number;
  runsPerMin: number;
  failedRuns: number;
  /** The benchmark workflow's executions (it continues as new every few hundred runs), first to last. */
  executions: { events: number; protoKb: number }[];
  /** The benchmark's result payload (every run's outcome): what its caller receives. */
  resultKb: number;
  workerPeakMb: number;
  workerCpuMsPerRun: number;
  serverCpuMsPerRun: number;
}

/**
 * One benchmark of `runs` replay runs (one task, one replay agent, `runs` seeds) on one worker process, at most
 * `concurrency` at once: each run `steps` trivial commands then a forfeit (no grading), so the benchmark's own
 * machinery is measured (fan-out, per-run records, continue-as-new, scoring) with provisioning and teardown.
 */
export async function measureLargeBench(env: BenchEnv, runs: number, steps: number, concurrency: number): Promise<LargeBenchResult> {
  const dir = join(mlgymHome(), 'replays');
  mkdirSync(dir, { recursive: true });
  const replay = join(dir, 'large-bench.yaml');
  writeFileSync(replay, [...trivialCommands(steps), 'exit_forfeit'].map((c) => `- ${JSON.stringify(c)}`).join('\n') + '\n');
  const spec: BenchSpec = { tasks: [TASK], models: [`replay:${replay}`], seeds: runs, maxSteps: steps + 1, concurrency, noise: {} };
  const benchId = env.runId('large');
  const worker = await startBenchWorker(env);
  try {
    const rss = sampler(worker.rssMb, 1000);
    const cpuBefore = [cpuMs(worker.child.pid!), cpuMs(env.serverPid)];
    const { ms, value: result } = await timed(async () => (await env.client.workflow.start('benchmark', { taskQueue: env.queue, workflowId: benchId, args: [spec] })).result() as Promise<BenchmarkResult>);
    const workerPeakMb = rss.stop().peak;
    const [workerCpu, serverCpu] = [cpuMs(worker.child.pid!) - cpuBefore[0]!, cpuMs(env.serverPid) - cpuBefore[1]!];
    const executions: LargeBenchResult['executions'] = [];
    let runId: string | undefined;
    do {
      const h = await readHistory(env.client, benchId, runId);
      executions.unshift({ events: h.events, protoKb: h.protoBytes / 1024 });
      runId = h.continuedFrom;
    } while (runId);
    return {
      runs,
      stepsPerRun: steps,
      concurrency,
      wallS: ms / 1000,
      runsPerMin: runs / (ms / 60_000),
      failedRuns: result.runs.filter((r) => r.status !== 'completed' && r.exitStatus !== 'exit_forfeit').length,
      executions,
      resultKb: JSON.stringify(result).length / 1024,
      workerPeakMb,
      workerCpuMsPerRun: workerCpu / runs,
      serverCpuMsPerRun: serverCpu / runs,
    };
  } finally {
    await worker.kill();
  }
}

export function largeBenchSection(r: LargeBenchResult): string {
  const executions = r.executions.map((e, i) => `${i + 1}: ${e.events} events, ${round(e.protoKb, 0)} KB`).join('; ');
  return [
    `## 7. A large benchmark (${r.runs} replay runs of ${r.stepsPerRun} commands and a forfeit, ${r.concurrency} at once, one worker)`,
    '| runs | wall s | runs/min | failed runs | benchmark executions | result KB | worker peak MB | worker CPU ms/run | server CPU ms/run |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${r.runs} | ${round(r.wallS, 0)} | ${round(r.runsPerMin, 1)} | ${r.failedRuns} | ${r.executions.length} | ${round(r.resultKb, 0)} | ${round(r.workerPeakMb, 0)} | ${round(r.workerCpuMsPerRun, 0)} | ${round(r.serverCpuMsPerRun, 0)} |`,
    '',
    `Benchmark executions (each continues as new after its share of runs, with bounded state): ${executions}.`,
  ].join('\n');
}
