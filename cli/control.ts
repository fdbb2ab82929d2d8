import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CancelMode, RunStatus } from '../lib/run/types.js';
import { addBudgetUpdate, cancelUpdate, hintSignal, pauseSignal, resumeSignal, statusQuery } from '../workflows/messages.js';
import { connect } from './connect.js';
import { printJson, say, UsageError } from './output.js';

async function withRun<T>(runId: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const { client } = await connect();
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no run "${runId}" on this Temporal server`);
    throw err;
  } finally {
    await client.connection.close();
  }
}

/** The human line of `mlgym status`. */
export function describeStatus(s: RunStatus): string {
  const best = s.bestScore === null ? '–' : s.bestScore;
  const host = s.hostQueue ? `, on ${s.hostQueue}${s.migrations ? ` (moved ${s.migrations} time${s.migrations === 1 ? '' : 's'} off a lost host)` : ''}` : '';
  return `${s.runId}: ${s.status}, step ${s.step}/${s.maxSteps}, $${s.costUsd.toFixed(4)} of $${s.budgetUsd.toFixed(2)}, best ${s.primaryMetric} ${best}${host}, last action: ${s.lastAction || '–'}`;
}

/** Live status of a running run, or the final state of a closed one. */
async function queryStatus(client: Client, runId: string): Promise<RunStatus | { runId: string; status: string }> {
  const handle = client.workflow.getHandle(runId);
  const { status } = await handle.describe();
  if (status.name !== 'RUNNING') return { runId, status: status.name.toLowerCase() };
  return handle.query(statusQuery);
}

export function statusCommand(runId: string, opts: { json?: boolean }): Promise<void> {
  return withRun(runId, async (client) => {
    const s = await queryStatus(client, runId);
    if (opts.json) printJson(s);
    else say('step' in s ? describeStatus(s) : `${runId}: ${s.status}`);
  });
}

function acknowledge(opts: { json?: boolean }, doc: object, line: string): void {
  if (opts.json) printJson(doc);
  else say(line);
}

export function pauseCommand(runId: string, opts: { json?: boolean }): Promise<void> {
  return withRun(runId, async (client) => {
    await client.workflow.getHandle(runId).signal(pauseSignal);
    acknowledge(opts, { runId, paused: true }, `${runId}: pause requested (takes effect before the next step)`);
  });
}

export function resumeCommand(runId: string, opts: { json?: boolean }): Promise<void> {
  return withRun(runId, async (client) => {
    await client.workflow.getHandle(runId).signal(resumeSignal);
    acknowledge(opts, { runId, paused: false }, `${runId}: resumed`);
  });
}

export function hintCommand(runId: string, text: string, opts: { json?: boolean }): Promise<void> {
  if (!text.trim()) throw new UsageError('the hint is empty');
  return withRun(runId, async (client) => {
    await client.workflow.getHandle(runId).signal(hintSignal, text);
    acknowledge(opts, { runId, hint: text }, `${runId}: hint queued for the next observation`);
  });
}

export function cancelCommand(runId: string, opts: { forfeit?: boolean; json?: boolean }): Promise<void> {
  const mode: CancelMode = opts.forfeit ? 'forfeit' : 'autosubmit';
  return withRun(runId, async (client) => {
    await client.workflow.getHandle(runId).executeUpdate(cancelUpdate, { args: [mode] });
    acknowledge(opts, { runId, cancel: mode }, `${runId}: cancelling (${mode === 'forfeit' ? 'forfeit, no score' : 'the workspace will be autosubmitted'})`);
  });
}

export function budgetCommand(runId: string, usdText: string, opts: { json?: boolean }): Promise<void> {
  const usd = Number(usdText);
  if (!Number.isFinite(usd) || usd <= 0) throw new UsageError(`budget expects a positive number of dollars to add, got "${usdText}"`);
  return withRun(runId, async (client) => {
    const budget = await client.workflow.getHandle(runId).executeUpdate(addBudgetUpdate, { args: [usd] });
    acknowledge(opts, { runId, budgetUsd: budget }, `${runId}: budget is now $${budget.toFixed(2)}`);
  });
}
