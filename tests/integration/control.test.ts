import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { repoRoot } from '../../lib/home.js';
import { recordName } from '../../lib/run/records.js';
import type { RunResult, RunStatus, TurnResult } from '../../lib/run/types.js';
import { temporalCli } from '../../lib/temporal/server.js';
import { statusQuery } from '../../workflows/messages.js';
import { waitFor } from '../helpers/poll.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

/** The CLI in a child process, awaited asynchronously: the test process also runs the worker. */
function mlgym(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [join(repoRoot, 'bin/mlgym.js'), ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run's status once `ok` holds. */
function statusWhen(handle: WorkflowHandle, ok: (s: RunStatus) => boolean, what: string): Promise<RunStatus> {
  return waitFor(async () => {
    const s = await handle.query(statusQuery);
    return ok(s) ? s : undefined;
  }, what);
}

/** Until the run waits on nothing but itself: no activity and no workflow task pending (a paused run is then at its pause). */
async function untilIdle(handle: WorkflowHandle): Promise<void> {
  await waitFor(async () => {
    const { raw } = await handle.describe();
    return !raw.pendingActivities?.length && !raw.pendingWorkflowTask ? true : undefined;
  }, 'the run to stop between steps');
}

describe('steering a running run from the CLI', () => {
  const t = useTestTemporal();

  it('pauses, takes a hint and more budget, resumes and cancels with an autosubmit', async () => {
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-replay-')), 'slow.yaml');
    writeFileSync(replay, Array.from({ length: 40 }, (_, i) => `- "sleep 0.5; echo step ${i}"`).join('\n') + '\n');
    const input = runInput('quickDilemma', `replay:${replay}`, { maxSteps: 40 });
    const worker = await t.worker('control');
    const handle = await startRun(t.client, 'control', input);
    let paused = -1;
    const result = worker.runUntil(async () => {
      await statusWhen(handle, (s) => s.step >= 2, 'two steps');

      expect((await mlgym('pause', input.runId)).status).toBe(0);
      await statusWhen(handle, (s) => s.status === 'paused', 'paused');
      await untilIdle(handle); // a step in flight finishes; none starts
      paused = (await handle.query(statusQuery)).step;
      await sleep(2500);
      expect((await handle.query(statusQuery)).step).toBe(paused);

      expect((await mlgym('hint', input.runId, 'look at target.py')).status).toBe(0);
      const budget = await mlgym('budget', input.runId, '2.5', '--json');
      expect(budget.status).toBe(0);
      expect(JSON.parse(budget.stdout)).toEqual({ runId: input.runId, budgetUsd: 2.5 });
      expect((await mlgym('budget', input.runId, '-1')).status).toBe(2);

      const status = await mlgym('status', input.runId, '--json');
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'paused', step: paused, budgetUsd: 2.5, pendingHints: 1 });

      expect((await mlgym('resume', input.runId)).status).toBe(0);
      await statusWhen(handle, (s) => s.step >= paused + 2, 'steps after resume');
      const cancel = await mlgym('cancel', input.runId, '--json');
      expect(cancel.status).toBe(0);
      return (await handle.result()) as RunResult;
    });
    const final = await result;

    expect(final.exitStatus).toBe('autosubmission (exit_cancel)');
    expect(final.status).toBe('completed');
    expect(final.steps).toBeLessThan(40);
    const store = new ArtifactStore();
    // The hint reached the first turn after the pause, and only that one.
    const hinted = await store.readJson<TurnResult>(input.runId, recordName.turn(paused));
    expect(hinted?.hints).toEqual(['look at target.py']);
    expect((await store.readJson<TurnResult>(input.runId, recordName.turn(paused + 1)))?.hints ?? []).toEqual([]);

    const listed = spawnSync(temporalCli(), ['workflow', 'list', '--address', process.env.TEMPORAL_ADDRESS!, '--query', `MlgymTask='quickDilemma' AND WorkflowId='${input.runId}'`, '-o', 'json'], { encoding: 'utf8' });
    expect(JSON.parse(listed.stdout).map((w: { execution: { workflowId: string } }) => w.execution.workflowId)).toEqual([input.runId]);
  });

  it('refuses controls for an unknown run with exit 2', async () => {
    const out = await mlgym('cancel', 'run-nope-0-000000');
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('no run "run-nope-0-000000"');
  });
});
