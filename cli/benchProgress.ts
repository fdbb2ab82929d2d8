import type { Client } from '@temporalio/client';
import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr: the benchmark's finished child runs (counted by visibility), until it ends. */
export async function showBenchProgress(client: Client, benchId: string, total: number, finished: Promise<unknown>): Promise<void> {
  const bar = new SingleBar(
    { format: 'runs {bar} {value}/{total} finished · {failed} failed', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 10_000, hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0, { failed: 0 });
  let done = false;
  void finished.finally(() => (done = true)).catch(() => undefined);
  const runs = `WorkflowType = 'agentRun' AND MlgymBenchId = '${benchId}'`;
  while (!done) {
    await Promise.race([finished.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    const [closed, failed] = await Promise.all([
      client.workflow.count(`${runs} AND ExecutionStatus != 'Running'`),
      client.workflow.count(`${runs} AND ExecutionStatus = 'Failed'`),
    ]).catch(() => [undefined, undefined]);
    if (closed && failed) bar.update(Math.min(total, closed.count), { failed: failed.count });
  }
  bar.update(total);
  bar.stop();
}
