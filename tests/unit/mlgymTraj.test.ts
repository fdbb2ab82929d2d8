import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { exportRun } from '../../lib/interop/export.js';
import { mlgymExitStatus } from '../../lib/interop/toTraj.js';
import { readTrajectory, recordName, timedObservation, type ObservationRecord } from '../../lib/run/records.js';
import { writeRun, type RunSpec } from '../helpers/reportFixtures.js';

const store = new ArtifactStore(mkdtempSync(join(tmpdir(), 'mlgym-traj-')));

function spec(runId: string, steps: RunSpec['steps'], more: Partial<RunSpec> = {}): RunSpec {
  return { runId, task: 'prisonersDilemma', model: 'gpt-4o', metric: 'Score', direction: 'max', baseline: 2.37, steps, ...more };
}

async function exportedStatus(s: RunSpec): Promise<{ ours: string; traj: string }> {
  const result = await writeRun(store, s);
  const out = mkdtempSync(join(tmpdir(), 'mlgym-traj-out-'));
  const { files } = await exportRun(store, s.runId, out);
  return { ours: result.exitStatus, traj: JSON.parse(readFileSync(files.traj, 'utf8')).info.exit_status };
}

describe("exported .traj files carry MLGym's exit statuses", () => {
  it('names the reason of an evaluation that failed at the agent\'s own submit, as MLGym does', async () => {
    expect(await exportedStatus(spec('run-traj-format', [{ action: 'submit', score: { error: 'no JSON' } }]))).toEqual({ ours: 'evaluation_format_error', traj: 'evaluation_format_error (submit)' });
    expect(mlgymExitStatus('submission_not_found')).toBe('submission_not_found (submit)');
    expect(mlgymExitStatus('evaluation_format_error')).toBe('evaluation_format_error (submit)');
  });

  it('keeps the statuses MLGym writes already', async () => {
    expect(await exportedStatus(spec('run-traj-ok', [{ action: 'validate', score: 2.5 }, { action: 'submit', score: 2.6 }]))).toEqual({ ours: 'submitted', traj: 'submitted' });
    const auto = await exportedStatus(spec('run-traj-auto', [{ action: 'ls' }, { action: 'exit_context' }], { endedBy: 'exit_context', autosubmit: { error: 'bad' } }));
    expect(auto).toEqual({ ours: 'evaluation_format_error (exit_context)', traj: 'evaluation_format_error (exit_context)' });
    for (const status of ['autosubmission (max_steps)', 'submission_not_found (exit_format)', 'exit_forfeit', 'skipped', 'early_exit']) expect(mlgymExitStatus(status)).toBe(status);
  });
});

describe('execution time of a step', () => {
  it('is read from its observation record, absent in records written before it was kept', async () => {
    await store.writeJson('run-durations', recordName.turn(0), { action: { kind: 'command', command: 'ls' }, thought: '', costUsd: 0 });
    await store.writeJson('run-durations', recordName.observation(0), { step: 0, observation: 'a', durationS: 1.5 } satisfies ObservationRecord);
    await store.writeJson('run-durations', recordName.turn(1), { action: { kind: 'command', command: 'pwd' }, thought: '', costUsd: 0 });
    await store.writeJson('run-durations', recordName.observation(1), { step: 1, observation: 'b' } satisfies ObservationRecord);
    const steps = await readTrajectory(store, 'run-durations');
    expect(steps.map((s) => s.durationS)).toEqual([1.5, undefined]);
  });

  it('is measured around the action by timedObservation, unless the action says it', async () => {
    const clock = [10_000, 12_500];
    const record = await timedObservation(async () => ({ step: 3, observation: 'done' }), () => clock.shift()!);
    expect(record).toEqual({ step: 3, observation: 'done', durationS: 2.5 });
    expect(await timedObservation(async () => ({ step: 4, observation: 'x', durationS: 0.75 }))).toMatchObject({ durationS: 0.75 });
  });
});
