import type { BenchEnv } from './env.js';
import { containerMemory } from './containers.js';
import { resultOf, startReplayRun, trivialCommands } from './runs.js';
import { sleep, timed } from './stats.js';
import { readHistory, stepSpan, troubledActivities } from './timeline.js';
import { cpuMs, sampler } from './proc.js';
import { startBenchWorker } from './worker.js';

export interface ConcurrencyLevel {
  runs: number;
  stepsPerRun: number;
  /** Start of the first run to the end of the last (provisioning and teardown included). */
  wallMs: number;
  /** Commands of all runs per second of the agent loops (first turn of any run to last command of any). */
  stepsPerS: number;
  failedRuns: number;
  /** Activities that failed, timed out or needed a retry. */
  activityRetries: number;
  /** CPU time of the worker and of the dev server per command (the runs' provisioning and teardown included). */
  workerCpuMsPerStep: number;
  serverCpuMsPerStep: number;
  workerIdleMb: number;
  workerPeakMb: number;
  containers: number;
  containerMeanMb: number;
}

/** `levels` of concurrent replay runs, each on a fresh, warmed-up worker process so its memory starts clean. */
export async function measureConcurrency(env: BenchEnv, levels: number[], steps: number): Promise<ConcurrencyLevel[]> {
  const results: ConcurrencyLevel[] = [];
  for (const runs of levels) {
    const worker = await startBenchWorker(env);
    // A first run loads what every run needs (modules, workflow bundle context): not a per-run cost.
    await resultOf(await startReplayRun(env, `warmup${runs}`, trivialCommands(2)));
    await sleep(1000);
    const workerIdleMb = worker.rssMb();
    const rss = sampler(worker.rssMb);
    const cpuBefore = [cpuMs(worker.child.pid!), cpuMs(env.serverPid)];
    const prefix = `conc${runs}-`;
    const batch = timed(async () => {
      const handles = await Promise.all(Array.from({ length: runs }, (_, i) => startReplayRun(env, `${prefix}${i}`, trivialCommands(steps))));
      const outcomes = await Promise.allSettled(handles.map(resultOf));
      return { handles, failedRuns: outcomes.filter((o) => o.status === 'rejected').length };
    });
    const memory = await containerMemory(env.runId(prefix), batch);
    const { ms: wallMs, value } = await batch;
    const workerPeakMb = rss.stop().peak;
    const [workerCpu, serverCpu] = [cpuMs(worker.child.pid!) - cpuBefore[0]!, cpuMs(env.serverPid) - cpuBefore[1]!];
    await worker.kill();
    const histories = await Promise.all(value.handles.map((h) => readHistory(env.client, h.workflowId)));
    const spans = histories.map(stepSpan);
    const loopMs = Math.max(...spans.map((s) => s.to)) - Math.min(...spans.map((s) => s.from));
    const done = spans.reduce((n, s) => n + s.steps, 0);
    results.push({
      runs,
      stepsPerRun: steps,
      wallMs,
      stepsPerS: (done / loopMs) * 1000,
      failedRuns: value.failedRuns,
      activityRetries: histories.reduce((n, h) => n + troubledActivities(h), 0),
      workerCpuMsPerStep: workerCpu / done,
      serverCpuMsPerStep: serverCpu / done,
      workerIdleMb,
      workerPeakMb,
      containers: memory.containers,
      containerMeanMb: memory.meanMb,
    });
  }
  return results;
}
