import { ArtifactStore } from '../lib/artifacts/store.js';
import { ForkInputError, runInputOf } from '../lib/fork/parentInput.js';
import { forkRefusal } from '../lib/fork/records.js';
import { newRunId } from '../lib/run/ids.js';
import { runStartOptions } from '../lib/run/start.js';
import type { RunInput, RunResult } from '../lib/run/types.js';
import { namespace, taskQueueFor } from '../lib/temporal/client.js';
import { awaitResult, chooseQueue, connect, printDetached, workflowUrl } from './connect.js';
import { EXIT, parseIntFlag, printJson, say, UsageError } from './output.js';
import { checkedModelSpec, runSummary } from './run.js';

export interface ForkOptions {
  atStep: string;
  model?: string;
  hint?: string;
  budgetUsd?: string;
  maxSteps?: string;
  worker: boolean;
  detach?: boolean;
  json?: boolean;
}

/** The fork's input: the parent's, with the flags that change it, a new id and the link to the parent. */
export function forkInput(parent: RunInput, atStep: number, opts: Omit<ForkOptions, 'atStep' | 'worker' | 'detach' | 'json'>): RunInput {
  const model = opts.model === undefined ? parent.model : checkedModelSpec(opts.model);
  if (model === 'external') throw new UsageError('a fork goes on with an agent of its own: give --model (baseline, replay:<file>, a registry id or openai:<model>); forks driven by a Gym client are not supported');
  const maxSteps = opts.maxSteps === undefined ? parent.maxSteps : parseIntFlag('max-steps', opts.maxSteps, 1);
  if (maxSteps <= atStep + 1) throw new UsageError(`--max-steps ${maxSteps} leaves the fork no step of its own after step ${atStep}: give more than ${atStep + 1}`);
  const budgetUsd = opts.budgetUsd === undefined ? parent.budgetUsd : Number(opts.budgetUsd);
  if (budgetUsd !== undefined && (!Number.isFinite(budgetUsd) || budgetUsd < 0)) throw new UsageError(`--budget-usd expects a number of dollars >= 0, got "${opts.budgetUsd}"`);
  if (opts.hint !== undefined && !opts.hint.trim()) throw new UsageError('--hint needs some text');
  // A fork is a run of its own: no benchmark, and its own link (a fork of a fork names its direct parent).
  const { benchId: _bench, fork: _fork, ...own } = parent;
  return {
    ...own,
    runId: newRunId(parent.taskId, model, parent.seed),
    model,
    maxSteps,
    ...(budgetUsd === undefined ? {} : { budgetUsd }),
    fork: { parentRunId: parent.runId, atStep, ...(opts.hint === undefined ? {} : { hint: opts.hint }) },
  };
}

/** `mlgym fork <runId> --at-step N`: a new run that starts as the parent after step N, then goes on live. */
export async function forkCommand(parentRunId: string, opts: ForkOptions): Promise<number> {
  const atStep = parseIntFlag('at-step', opts.atStep, 0);
  const refusal = await forkRefusal(new ArtifactStore(), parentRunId, atStep);
  if (refusal) throw new UsageError(refusal);
  const { server, client } = await connect({ showUi: true });
  let input: RunInput;
  try {
    input = forkInput(await runInputOf(client, parentRunId), atStep, opts);
  } catch (err) {
    await client.connection.close();
    throw err instanceof ForkInputError ? new UsageError(err.message) : err;
  }
  const taskQueue = await chooseQueue(client, taskQueueFor(input.gpus ?? 0), input.runId, opts.worker && !opts.detach);
  const handle = await client.workflow.start('agentRun', runStartOptions(input, taskQueue));
  say(`started ${input.runId}: a fork of ${parentRunId} after step ${atStep}, going on with ${input.model}`);
  const url = workflowUrl(server, namespace(), input.runId) ?? null;
  if (url) say(`  ${url}`);
  if (opts.detach) {
    await client.connection.close();
    printDetached(opts, { runId: input.runId, workflowId: input.runId, taskQueue, uiUrl: url });
    return EXIT.ok;
  }
  const result = await awaitResult(server, client, handle.result() as Promise<RunResult>, taskQueue, Promise.resolve());
  if (opts.json) printJson({ ...runSummary(result), parentRunId, forkedAtStep: atStep, uiUrl: url });
  else say(`${result.exitStatus}: fork ${result.runId} of ${parentRunId} (after step ${atStep}) ended after ${result.steps} steps, cost $${result.costUsd.toFixed(4)}, submitted ${JSON.stringify(result.submission?.metrics ?? null)}`);
  return result.status === 'completed' ? EXIT.ok : EXIT.runFailed;
}
