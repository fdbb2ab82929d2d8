import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { BenchmarkResult } from '../bench/types.js';
import { protocolOf } from '../run/protocol.js';
import { MlgymBenchId, MlgymModel, MlgymTask } from '../temporal/searchAttributes.js';
import type { RunHint } from './run.js';

export interface BenchmarkRuns {
  benchId: string;
  /** The benchmark workflow's status: completed, running, failed, … */
  status: string;
  runs: { runId: string; hint: RunHint }[];
}

/**
 * The runs of a benchmark (the `benchmark` workflow whose id is `benchId`): those of its result when it
 * completed, else the child runs started so far (found by their MlgymBenchId search attribute).
 * Undefined when the server has no benchmark of that id.
 */
export async function benchmarkRuns(client: Client, benchId: string): Promise<BenchmarkRuns | undefined> {
  const handle = client.workflow.getHandle(benchId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  if (description.type !== 'benchmark') return undefined;
  const status = description.status.name.toLowerCase();
  if (status === 'completed') {
    const result = (await handle.result()) as BenchmarkResult;
    const protocol = protocolOf(result);
    return { benchId, status, runs: result.runs.map(({ runId, task, model, status, exitStatus, error }) => ({ runId, hint: { task, model, status, exitStatus, error, protocol } })) };
  }
  const runs: BenchmarkRuns['runs'] = [];
  for await (const run of client.workflow.list({ query: `WorkflowType = 'agentRun' AND ${MlgymBenchId.name} = '${benchId}'` })) {
    runs.push({ runId: run.workflowId, hint: { task: run.typedSearchAttributes.get(MlgymTask), model: run.typedSearchAttributes.get(MlgymModel) } });
  }
  return { benchId, status, runs: runs.sort((a, b) => a.runId.localeCompare(b.runId)) };
}
