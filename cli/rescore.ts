import type { Client } from '@temporalio/client';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { ForkInputError, runInputOf } from '../lib/fork/parentInput.js';
import { benchmarkRuns } from '../lib/report/benchmark.js';
import type { RescoreInput, RescoreResult, RescoreRunRef } from '../lib/rescore/types.js';
import { toId } from '../lib/run/ids.js';
import type { Protocol } from '../lib/run/protocol.js';
import { recordName } from '../lib/run/records.js';
import type { RunResult } from '../lib/run/types.js';
import { namespace, taskQueueFor } from '../lib/temporal/client.js';
import { MlgymRescoreOf, MlgymStatus } from '../lib/temporal/searchAttributes.js';
import { awaitResult, chooseQueue, connect, printDetached, workflowUrl } from './connect.js';
import { EXIT, printJson, say, UsageError } from './output.js';
import { protocolFlag } from './run.js';

export interface RescoreOptions {
  all?: boolean;
  protocol?: string;
  worker: boolean;
  detach?: boolean;
  json?: boolean;
}

/** The finished runs of a run id or benchmark id, as the rescore workflow takes them; unfinished ones are skipped (said on stderr). */
async function rescoreRuns(client: Client, store: ArtifactStore, target: string, protocolOverride: Protocol | undefined): Promise<{ runs: RescoreRunRef[]; bench: boolean }> {
  const bench = await benchmarkRuns(client, target);
  const ids = bench ? bench.runs.map((r) => r.runId) : [target];
  const runs: RescoreRunRef[] = [];
  for (const runId of ids) {
    const input = await runInputOf(client, runId).catch((err) => {
      throw err instanceof ForkInputError ? new UsageError(err.message) : err;
    });
    if (!(await store.readJson<RunResult>(runId, recordName.result))) {
      if (!bench) throw new UsageError(`run "${runId}" has not finished: only a finished run is rescored`);
      say(`skipping ${runId}: it has not finished`);
      continue;
    }
    const { taskId, taskFile, data, gpus, model, seed } = input;
    const protocol = protocolOverride ?? input.protocol;
    runs.push({ runId, taskId, model, seed, ...(taskFile ? { taskFile } : {}), ...(data ? { data } : {}), ...(gpus === undefined ? {} : { gpus }), ...(protocol ? { protocol } : {}) });
  }
  return { runs, bench: bench !== undefined };
}

/** `mlgym rescore <runId|benchId>`: grade finished runs' workspaces again with their tasks' current evaluations. */
export async function rescoreCommand(target: string, opts: RescoreOptions): Promise<number> {
  const protocol = opts.protocol === undefined ? undefined : protocolFlag(opts.protocol);
  const { server, client } = await connect({ showUi: true });
  let found;
  try {
    found = await rescoreRuns(client, new ArtifactStore(), target, protocol);
  } catch (err) {
    await client.connection.close();
    throw err;
  }
  const { runs, bench } = found;
  const workflowId = `rescore-${toId(target)}-${Date.now().toString(36)}`;
  const input: RescoreInput = { target, runs, all: opts.all ?? false, ...(protocol ? { protocol } : {}), ...(bench ? { bench: { data: runs[0]?.data } } : {}) };
  const taskQueue = await chooseQueue(client, taskQueueFor(Math.max(0, ...runs.map((r) => r.gpus ?? 0))), workflowId, opts.worker && !opts.detach);
  const handle = await client.workflow.start('rescore', {
    workflowId,
    taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: MlgymRescoreOf, value: target },
      { key: MlgymStatus, value: 'starting' },
    ],
    staticSummary: `rescore of ${target}: ${runs.length} run(s)${input.all ? ', every validated workspace' : ''}`,
  });
  say(`started ${workflowId}: re-grading ${runs.length} run(s) of ${target}`);
  const url = workflowUrl(server, namespace(), workflowId) ?? null;
  if (url) say(`  ${url}`);
  if (opts.detach) {
    await client.connection.close();
    printDetached(opts, { workflowId, taskQueue, uiUrl: url });
    return EXIT.ok;
  }
  const result = (await awaitResult(server, client, handle.result(), taskQueue, Promise.resolve())) as RescoreResult;
  if (opts.json) printJson({ workflowId, ...result, uiUrl: url });
  else {
    for (const r of result.runs) say(`${r.runId} (evaluation ${r.evaluatorVersion}): submitted ${JSON.stringify(r.previousSubmission?.metrics ?? null)} → ${r.submission?.error ?? JSON.stringify(r.submission?.metrics ?? null)}`);
    if (result.scores) say(`AUP (best submission): ${JSON.stringify(result.scores.aup.bestSubmission)}; (best attempt): ${JSON.stringify(result.scores.aup.bestAttempt)}`);
  }
  return EXIT.ok;
}
