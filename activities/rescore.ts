import { ApplicationFailure } from '@temporalio/activity';
import type { ArtifactStore } from '../lib/artifacts/store.js';
import type { LoadedTask } from '../lib/config/load.js';
import { evaluatorVersion } from '../lib/rescore/evaluatorVersion.js';
import { rescoreRecordName, type RescoreRunRef, type RunRescore } from '../lib/rescore/types.js';
import { shownSplit } from '../lib/run/protocol.js';
import { recordName } from '../lib/run/records.js';
import type { Attempt, RunResult } from '../lib/run/types.js';
import { ensureAgentContainer, fillTaskData, removeRunResources, volumeName } from '../lib/sandbox/container.js';
import { releaseGpus } from '../lib/sandbox/gpus.js';
import { gradeWorkspace, type Split } from '../lib/sandbox/grader.js';
import { ensureTaskImage } from '../lib/sandbox/images.js';
import { restoreSnapshot } from '../lib/sandbox/snapshot.js';
import { readManifest } from '../lib/snapshots/manifest.js';
import { snapshotStore } from '../lib/snapshots/store.js';
import { gpusOrFail, taskOrFail, type ActivityDeps } from './context.js';
import { toAttempt } from './grade.js';
import { withHeartbeat } from './heartbeat.js';

export interface RegradeInput extends RescoreRunRef {
  /** Every validated workspace too, not only the submitted one. */
  all: boolean;
}

/**
 * Grade a finished run's submitted (and with `all`, every validated) workspace again with the task's current
 * evaluation, recorded under its version (`rescores/<version>[.all][.mlgym].json`) beside the run's own scores. No model is
 * asked and no agent command runs: each workspace is the snapshot taken when it was graded, restored into a
 * scratch volume that only the grader container reads.
 */
export function makeRegrade({ store }: ActivityDeps) {
  return async function regrade(input: RegradeInput): Promise<RunRescore> {
    const { runId } = input;
    const task = taskOrFail(input);
    const version = evaluatorVersion(task);
    const result = await store.readJson<RunResult>(runId, recordName.result);
    if (!result) throw ApplicationFailure.nonRetryable(`run ${runId} has not finished (no result in ${store.location}): only a finished run is rescored`, 'ConfigError');
    return store.once(runId, rescoreRecordName(version, { all: input.all, protocol: input.protocol }), () =>
      withHeartbeat(async () => {
        const previousSubmission = result.attempts.filter((a) => a.kind === 'submit').at(-1) ?? null;
        const attempts: Attempt[] = [];
        for (const attempt of result.attempts.filter((a) => a === previousSubmission || (input.all && a.kind === 'validate'))) attempts.push(await regradeAttempt(store, input, task, attempt));
        await store.log(runId, `rescored with evaluation ${version}: ${attempts.map((a) => `${a.kind} at step ${a.step}: ${a.error ?? JSON.stringify(a.metrics)}`).join('; ') || 'nothing graded (no submission)'}`);
        return { runId, task: task.id, evaluatorVersion: version, at: new Date().toISOString(), attempts, submission: attempts.find((a) => a.kind === 'submit') ?? null, previousSubmission };
      }),
    );
  };
}

/** One graded workspace again: its snapshot into a scratch volume, graded there, the scratch removed. */
async function regradeAttempt(store: ArtifactStore, run: RegradeInput, task: LoadedTask, original: Attempt): Promise<Attempt> {
  const { step, kind } = original;
  const manifest = await readManifest(snapshotStore(store), run.runId, step);
  if (!manifest) return { step, kind, error: `no snapshot of the workspace at step ${step}: it was graded before grading kept one, so it cannot be graded again without re-running commands` };
  const scratch = `${run.runId}.rescore-${step}`;
  await removeRunResources(scratch); // what an attempt cut short left
  try {
    const image = await ensureTaskImage(task, (line) => void store.log(run.runId, `[build] ${line}`));
    const gpuIds = await gpusOrFail(scratch, task.resources.gpus);
    const container = await ensureAgentContainer({ runId: scratch, image, task, model: 'rescore', gpuIds });
    await fillTaskData(container.id, task);
    await restoreSnapshot(snapshotStore(store), container.id, manifest, volumeName(scratch));
    const shown = shownSplit(kind, task.validate_shows, run.protocol);
    const splits: Split[] = shown === 'test' ? ['test'] : ['validation', 'test'];
    const outcomes = await gradeWorkspace(scratch, step, image, task, splits);
    return toAttempt(step, kind, outcomes.test, outcomes[shown]);
  } finally {
    await removeRunResources(scratch);
    await releaseGpus(scratch);
  }
}
