import type { BenchEnv } from './env.js';
import { resultOf, startReplayRun, trivialCommands } from './runs.js';
import { readHistory, type RunHistory } from './timeline.js';

export interface HistoryResult {
  steps: number;
  continueEvery: number;
  /** Each execution of the run, first to last: its commands, events and bytes. */
  executions: { steps: number; events: number; jsonBytes: number; protoBytes: number }[];
}

/** One long replay run that continues as new every `continueEvery` steps; its executions' histories. */
export async function measureHistory(env: BenchEnv, steps: number, continueEvery: number): Promise<HistoryResult> {
  const handle = await startReplayRun(env, 'history', trivialCommands(steps), { continueEvery });
  await resultOf(handle);
  const chain: RunHistory[] = [];
  let runId: string | undefined;
  do {
    const h = await readHistory(env.client, handle.workflowId, runId);
    chain.unshift(h);
    runId = h.continuedFrom;
  } while (runId);
  const executions = chain.map((h) => ({
    steps: h.activities.filter((a) => a.type === 'agentTurn').length,
    events: h.events,
    jsonBytes: h.jsonBytes,
    protoBytes: h.protoBytes,
  }));
  return { steps, continueEvery, executions };
}
