import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunInput } from '../run/types.js';

export class ForkInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForkInputError';
  }
}

/**
 * How a run was started (its `agentRun` input, without the state a continue-as-new carries): what a fork
 * of it starts from. Read from the start event of its current execution.
 */
export async function runInputOf(client: Client, runId: string): Promise<RunInput> {
  const handle = client.workflow.getHandle(runId);
  try {
    const { type } = await handle.describe();
    if (type !== 'agentRun') throw new ForkInputError(`"${runId}" is a ${type} workflow, not a run (agentRun)`);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ForkInputError(`no run "${runId}" on this Temporal server`);
    throw err;
  }
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new ForkInputError(`run "${runId}" has no start input`);
  const { state: _state, ...input } = client.options.loadedDataConverter.payloadConverter.fromPayload<RunInput>(payload);
  return input;
}
