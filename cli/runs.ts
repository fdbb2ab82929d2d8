import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { recordName } from '../lib/run/records.js';
import type { ProvisionResult, RunResult, RunStatus } from '../lib/run/types.js';
import { MlgymBenchId, MlgymBestScore, MlgymModel, MlgymStatus, MlgymTask } from '../lib/temporal/searchAttributes.js';
import { statusQuery } from '../workflows/messages.js';
import { connect } from './connect.js';
import { parseIntFlag, printJson, say, UsageError } from './output.js';

export interface RunsOptions {
  task?: string;
  model?: string;
  status?: string;
  bench?: string;
  limit: string;
  json?: boolean;
}

/** One line of `mlgym runs`. */
export interface RunListing {
  runId: string;
  task: string | null;
  model: string | null;
  /** The run's own status (MlgymStatus: provisioning, running, paused, completed, …), else Temporal's. */
  status: string;
  /** Temporal's execution status: running, completed, failed, terminated, … */
  execution: string;
  step: number | null;
  bestScore: number | null;
  /** The host whose Docker engine holds (or held) the run's container, from its provision record. */
  host: string | null;
  benchId: string | null;
  startTime: string;
}

/** How long a running run has to answer its status query: one whose worker is gone shows no step rather than hang the list. */
export const QUERY_DEADLINE_MS = 3000;
const QUOTED = /^[A-Za-z0-9._:@~-]+$/;

/** The visibility query of the filters: agentRun workflows, narrowed by task, model, status and benchmark. */
export function runsQuery(opts: Pick<RunsOptions, 'task' | 'model' | 'status' | 'bench'>): string {
  const clauses = [`WorkflowType = 'agentRun'`, `ExecutionStatus != 'ContinuedAsNew'`];
  const filters: [string, string | undefined, string][] = [
    ['task', opts.task, MlgymTask.name],
    ['model', opts.model, MlgymModel.name],
    ['status', opts.status, MlgymStatus.name],
    ['bench', opts.bench, MlgymBenchId.name],
  ];
  for (const [flag, value, attribute] of filters) {
    if (value === undefined) continue;
    if (!QUOTED.test(value)) throw new UsageError(`--${flag} expects letters, digits and . _ : @ ~ -, got "${value}"`);
    clauses.push(`${attribute} = '${value}'`);
  }
  return clauses.join(' AND ');
}

/** `mlgym runs`: the latest runs from Temporal's visibility (search attributes), with step and host. */
export async function runsCommand(opts: RunsOptions): Promise<void> {
  const limit = parseIntFlag('limit', opts.limit, 1);
  const query = runsQuery(opts);
  const { client } = await connect();
  try {
    const executions: WorkflowExecutionInfo[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
      executions.push(execution);
      if (executions.length >= limit) break;
    }
    const store = new ArtifactStore();
    const runs = await Promise.all(executions.map((e) => listing(client, store, e)));
    if (opts.json) printJson({ runs });
    else if (!runs.length) say('no runs');
    else for (const line of table(runs)) say(line);
  } finally {
    await client.connection.close();
  }
}

async function listing(client: Client, store: ArtifactStore, e: WorkflowExecutionInfo): Promise<RunListing> {
  const attrs = e.typedSearchAttributes;
  const execution = e.status.name.toLowerCase();
  const [step, host] = await Promise.all([stepOf(client, e), hostOf(store, e.workflowId)]);
  return {
    runId: e.workflowId,
    task: attrs.get(MlgymTask) ?? null,
    model: attrs.get(MlgymModel) ?? null,
    status: attrs.get(MlgymStatus) ?? execution,
    execution,
    step,
    bestScore: attrs.get(MlgymBestScore) ?? null,
    host,
    benchId: attrs.get(MlgymBenchId) ?? null,
    startTime: e.startTime.toISOString(),
  };
}

/** A running run's step from its status query, a completed one's from its result; null when neither answers. */
async function stepOf(client: Client, e: WorkflowExecutionInfo): Promise<number | null> {
  const handle = client.workflow.getHandle(e.workflowId, e.runId);
  try {
    if (e.status.name === 'RUNNING') return (await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery)) as RunStatus).step;
    if (e.status.name === 'COMPLETED') return ((await handle.result()) as RunResult).steps;
  } catch {
    // No worker to answer the query (or a result that is no run's): the step is unknown.
  }
  return null;
}

async function hostOf(store: ArtifactStore, runId: string): Promise<string | null> {
  const provision = await store.readJson<ProvisionResult>(runId, recordName.provision).catch(() => undefined);
  const queue = provision?.hostQueue;
  return queue ? queue.slice(queue.lastIndexOf('@') + 1) : null;
}

function table(runs: RunListing[]): string[] {
  const rows = runs.map((r) => [r.runId, r.task ?? '–', r.model ?? '–', r.status, r.step === null ? '–' : String(r.step), r.bestScore === null ? '–' : String(r.bestScore), r.host ?? '–']);
  const header = ['RUN', 'TASK', 'MODEL', 'STATUS', 'STEP', 'BEST', 'HOST'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}
