import type { ChildProcess } from 'node:child_process';
import { killHard, startWorkerProcess } from '../tests/helpers/workerProcess.js';
import type { BenchEnv } from './env.js';
import { vmRssMb } from './proc.js';

export interface BenchWorker {
  child: ChildProcess;
  /** Milliseconds from spawn to `worker polling`. */
  startMs: number;
  rssMb: () => number;
  kill: () => Promise<void>;
}

/** A `mlgym worker` process on the bench's queue, whose memory can be read from /proc. */
export async function startBenchWorker(env: BenchEnv): Promise<BenchWorker> {
  const start = performance.now();
  const child = await startWorkerProcess(env.workerEnv);
  const startMs = performance.now() - start;
  return { child, startMs, rssMb: () => vmRssMb(child.pid!), kill: () => killHard(child) };
}
