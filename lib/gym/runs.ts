// Finding external runs that wait for a client: those a benchmark started (`mlgym bench --models external`),
// or any other, to attach to them (MlgymEnv.attach).
import type { Client } from '@temporalio/client';
import { ID_EXPECTED, isId } from '../run/ids.js';
import { EXTERNAL_MODEL } from './types.js';

export interface ExternalRunFilter {
  benchId?: string;
  task?: string;
  /** Only runs still going (default true). */
  running?: boolean;
}

function clause(key: string, value: string | undefined): string[] {
  if (value === undefined) return [];
  if (!isId(value)) throw new Error(`${key}: expected an id (${ID_EXPECTED}), got ${JSON.stringify(value)}`);
  return [`${key} = '${value}'`];
}

/** The visibility query of external runs (of a benchmark, of a task; only running ones by default). */
export function externalRunsQuery({ benchId, task, running = true }: ExternalRunFilter = {}): string {
  return [`MlgymModel = '${EXTERNAL_MODEL}'`, ...clause('MlgymBenchId', benchId), ...clause('MlgymTask', task), ...(running ? ["ExecutionStatus = 'Running'"] : [])].join(' AND ');
}

/**
 * The ids of external runs, sorted. A benchmark starts at most `concurrency` runs at once: ask again after
 * some have finished. Visibility lags the server by a moment, so a run just started may be missing.
 */
export async function externalRuns(client: Client, filter: ExternalRunFilter = {}): Promise<string[]> {
  const ids = new Set<string>();
  for await (const execution of client.workflow.list({ query: externalRunsQuery(filter) })) ids.add(execution.workflowId);
  return [...ids].sort();
}
