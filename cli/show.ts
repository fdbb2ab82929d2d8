import { ArtifactStore } from '../lib/artifacts/store.js';
import { readTrajectory, recordName } from '../lib/run/records.js';
import type { RunResult } from '../lib/run/types.js';
import { printJson, say, UsageError } from './output.js';
import { runSummary } from './run.js';

/** `mlgym show <runId>`: the run's result and trajectory from the artifact store. */
export async function showCommand(runId: string, opts: { json?: boolean }): Promise<void> {
  const store = new ArtifactStore();
  if (!(await store.hasRun(runId))) throw new UsageError(`no run "${runId}" in ${store.location}`);
  const result = await store.readJson<RunResult>(runId, recordName.result);
  const steps = await readTrajectory(store, runId);
  const summary = result ? runSummary(result) : { runId, workflowId: runId, status: 'running' };
  if (opts.json) return printJson({ ...summary, steps });
  say(`${runId}: ${result ? result.exitStatus : 'running'}`);
  for (const s of steps) {
    say(`--- step ${s.step} ($${s.costUsd.toFixed(4)})${s.rerunOn?.length ? ` re-run on ${s.rerunOn.join(', ')} after a lost host` : ''}`);
    if (s.thought) say(`thought: ${s.thought}`);
    say(`action: ${s.action}`);
    say(s.observation.trimEnd());
  }
}
