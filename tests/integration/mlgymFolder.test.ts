import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { exportRun } from '../../lib/interop/export.js';
import { repoRoot } from '../../lib/home.js';
import { readTrajectory } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { runInput, startRun } from '../helpers/runs.js';
import { useTestTemporal } from '../helpers/temporal.js';

// An MLGym task folder of our own making (tests/fixtures/mlgym/folder): rentPrediction.yaml, written with
// MLGym's TaskConfig fields only, beside data/rentPrediction/ with the starter code, the data, its own
// evaluate.py (MLGym's CSV contract: --submission_file, JSON metrics; no fallback of ours) and the answers as a secret file.
const folder = join(repoRoot, 'tests', 'fixtures', 'mlgym', 'folder');
const replayFile = join(folder, 'rentPrediction.replay.yaml');
/** The run as `mlgym run tests/fixtures/mlgym/folder/rentPrediction.yaml` starts it: the workers load that YAML. */
const folderRun = (model: string) => ({ ...runInput('rentPrediction', model), taskFile: join(folder, 'rentPrediction.yaml') });

describe('an MLGym task folder, run end to end under grader isolation', () => {
  const t = useTestTemporal();
  it("runs the folder's baseline with replayed actions, scores it with the folder's evaluate.py, and exports MLGym's files", async () => {
    const input = folderRun(`replay:${replayFile}`);
    const worker = await t.worker('mlgym-folder');
    const handle = await startRun(t.client, 'mlgym-folder', input);
    const result = (await worker.runUntil(handle.result())) as RunResult;

    expect(result.status, JSON.stringify(result.attempts)).toBe('completed');
    expect(result.exitStatus).toBe('submitted');
    expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
    // The baseline recorded in the YAML: least squares on size and rooms, deterministic.
    expect(result.submission!.metrics!.rmse).toBeCloseTo(70.57850933534937, 6);

    const steps = await readTrajectory(new ArtifactStore(), input.runId);
    expect(steps.map((s) => s.action)).toEqual(['ls', 'find / -name answer.csv 2>/dev/null | wc -l', 'python3 baseline.py', 'validate', 'submit']);
    // The starter code lands by base name, as MLGym copies it; the answers (a secret file) stay with the grader.
    expect(steps[0]!.observation.split('\n').filter(Boolean).sort()).toEqual(['baseline.py', 'evaluate.py', 'sample_submission.csv', 'test.csv', 'train.csv']);
    expect(steps[1]!.observation.trim()).toBe('0');
    expect(steps[2]!.observation).toContain('wrote submission.csv');
    expect(steps[3]!.observation).toContain('"rmse"');

    const out = mkdtempSync(join(tmpdir(), 'mlgym-folder-export-'));
    const { files } = await exportRun(new ArtifactStore(), input.runId, out);
    const traj = JSON.parse(readFileSync(files.traj, 'utf8'));
    expect(traj.info.exit_status).toBe('submitted');
    expect(traj.trajectory.map((s: { action: string }) => s.action)).toEqual(steps.map((s) => s.action));
    const results = JSON.parse(readFileSync(files.results, 'utf8'));
    expect(results.baseline).toEqual({ rmse: 70.57850933534937 });
    expect(results.agent).toHaveLength(2);
  });

  it("hands the folder's evaluate.py a private copy of the submission, so a link to the grader's secret file is refused, not followed", async () => {
    // MLGym's scripts open whatever --submission_file names. A link to where the answers sit in the grader
    // (/grader/answer.csv) would score perfectly if followed; the grader copies the submission as data instead.
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-folder-replay-')), 'link.yaml');
    writeFileSync(replay, '- { action: "ln -s /grader/answer.csv submission.csv", thought: Borrow the answers. }\n- { action: validate, thought: Score. }\n- { action: submit, thought: Submit. }\n');
    const input = folderRun(`replay:${replay}`);
    const worker = await t.worker('mlgym-folder-link');
    const handle = await startRun(t.client, 'mlgym-folder-link', input);
    const result = (await worker.runUntil(handle.result())) as RunResult;
    expect(result.status).toBe('failed');
    expect(result.attempts).toHaveLength(2);
    for (const attempt of result.attempts) {
      expect(attempt.metrics).toBeUndefined();
      expect(attempt.error).toMatch(/^submission\.csv is a symbolic link; the grader reads submissions as plain files/);
    }
  });

  it("submits without submission.csv: MLGym's submission_not_found (submit)", async () => {
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-folder-replay-')), 'submit.yaml');
    writeFileSync(replay, '- { action: submit, thought: Submit at once. }\n');
    const input = folderRun(`replay:${replay}`);
    const worker = await t.worker('mlgym-folder-missing');
    const handle = await startRun(t.client, 'mlgym-folder-missing', input);
    const result = (await worker.runUntil(handle.result())) as RunResult;
    expect(result.status).toBe('failed');
    expect(result.attempts).toMatchObject([{ kind: 'submit', errorKind: 'submission_not_found' }]);
    const out = mkdtempSync(join(tmpdir(), 'mlgym-folder-export-'));
    const traj = JSON.parse(readFileSync((await exportRun(new ArtifactStore(), input.runId, out)).files.traj, 'utf8'));
    expect(traj.info.exit_status).toBe('submission_not_found (submit)');
  });
});
