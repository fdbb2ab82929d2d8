import { ensureRunContainer } from '../activities/provision.js';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { removeRunResources } from '../lib/sandbox/container.js';
import { execIn } from '../lib/sandbox/exec.js';
import { runInSession } from '../lib/sandbox/session.js';
import type { BenchEnv } from './env.js';
import { resultOf, startReplayRun, TASK, trivialCommands } from './runs.js';
import { median, timed } from './stats.js';
import { cpuMs } from './proc.js';
import { readHistory, stepBreakdown, stepSpan } from './timeline.js';
import type { BenchWorker } from './worker.js';

export interface OverheadResult {
  runs: number;
  steps: number;
  /** Steps per second of each run, per path. */
  durable: number[];
  /** The session over its long-lived stream (what toolExec uses), and with one docker exec per command (its fallback). */
  session: number[];
  sessionOneShot: number[];
  exec: number[];
  /** Median step time split into its parts (durable path, ms). */
  breakdown: ReturnType<typeof stepBreakdown>;
  workflowTasksPerStep: number;
  /** CPU time of the worker and of the dev server per durable step (provisioning and teardown of the runs included). */
  workerCpuMsPerStep: number;
  serverCpuMsPerStep: number;
}

/** The options toolExec passes to the session (training_timeout of the task, POLL_S, OUTPUT_CAP). */
const SESSION = { timeoutS: 1800, waitS: 2, capChars: 20_000 };

/**
 * The same trivial commands four ways: through the durable path (workflow → agentTurn → toolExec),
 * through the in-container session directly (over its stream, and with one exec per command), and as
 * bare docker execs. The worker is warm.
 */
export async function measureOverhead(env: BenchEnv, worker: BenchWorker, runs: number, steps: number): Promise<OverheadResult> {
  const commands = trivialCommands(steps);
  await resultOf(await startReplayRun(env, 'warmup', trivialCommands(3)));
  const durable: number[] = [];
  const breakdowns: ReturnType<typeof stepBreakdown>[] = [];
  const wftPerStep: number[] = [];
  const cpuBefore = [cpuMs(worker.child.pid!), cpuMs(env.serverPid)];
  for (let r = 0; r < runs; r++) {
    const handle = await startReplayRun(env, `overhead-${r}`, commands);
    await resultOf(handle);
    const history = await readHistory(env.client, handle.workflowId);
    const span = stepSpan(history);
    durable.push((span.steps / (span.to - span.from)) * 1000);
    breakdowns.push(stepBreakdown(history));
    wftPerStep.push(history.workflowTasks / (steps + 1));
  }
  const [workerCpuMsPerStep, serverCpuMsPerStep] = [cpuMs(worker.child.pid!) - cpuBefore[0]!, cpuMs(env.serverPid) - cpuBefore[1]!].map((ms) => ms / (runs * steps)) as [number, number];

  const runId = env.runId('direct');
  const { containerId } = await ensureRunContainer(new ArtifactStore(), { runId, taskId: TASK, model: 'bench' });
  const session: number[] = [];
  const sessionOneShot: number[] = [];
  const exec: number[] = [];
  try {
    await runInSession(containerId, 'bench-open', 'true', SESSION); // opens the stream, as a run's first command does
    for (let r = 0; r < runs; r++) {
      const viaSession = await timed(async () => {
        for (const [i, c] of commands.entries()) await runInSession(containerId, `bench-${r}-${i}`, c, SESSION);
      });
      session.push((steps / viaSession.ms) * 1000);
      const viaOneShot = await timed(async () => {
        for (const [i, c] of commands.entries()) await runInSession(containerId, `bench-once-${r}-${i}`, c, { ...SESSION, oneShot: true });
      });
      sessionOneShot.push((steps / viaOneShot.ms) * 1000);
      const viaExec = await timed(async () => {
        for (const c of commands) await execIn(containerId, ['bash', '-c', c]);
      });
      exec.push((steps / viaExec.ms) * 1000);
    }
  } finally {
    await removeRunResources(runId);
  }
  const breakdown = Object.fromEntries(Object.keys(breakdowns[0]!).map((k) => [k, median(breakdowns.map((b) => b[k as keyof typeof b]))])) as OverheadResult['breakdown'];
  return { runs, steps, durable, session, sessionOneShot, exec, breakdown, workflowTasksPerStep: median(wftPerStep), workerCpuMsPerStep, serverCpuMsPerStep };
}
