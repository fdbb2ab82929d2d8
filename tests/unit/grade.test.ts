import { describe, expect, it } from 'vitest';
import { toAttempt } from '../../activities/grade.js';
import { parseEvaluation } from '../../lib/sandbox/grader.js';
import { gradingKey, reusableOutcomes } from '../../lib/sandbox/gradingKey.js';
import type { ManifestEntry } from '../../lib/snapshots/manifest.js';
import { fixtureTask } from '../helpers/sandbox.js';

const task = { primary_metric: 'Score' };

describe('parsing an evaluation', () => {
  it('takes the last JSON line of finite numbers', () => {
    expect(parseEvaluation('training...\n{"Score": 1}\n{"Score": 2.5, "aux": 3}\n', '', 0, task)).toEqual({ ok: true, metrics: { Score: 2.5, aux: 3 } });
  });

  it.each([
    ['no JSON', 'just text\n', 0, /printed no JSON metrics/],
    ['malformed JSON', '{"Score": 1,\n', 0, /malformed JSON/],
    ['NaN', '{"Score": NaN}\n', 0, /malformed JSON/],
    ['a string metric', '{"Score": "high"}\n', 0, /"Score" is not a finite number/],
    ['null metric', '{"Score": null}\n', 0, /"Score" is not a finite number/],
    ['no primary metric', '{"Other": 1}\n', 0, /did not report the primary metric "Score"/],
    ['an evaluation error', '{"error": "wrong columns: expected Id, SalePrice"}\n', 1, /^wrong columns: expected Id, SalePrice$/],
    ['a crash', '', 1, /failed \(exit 1\): Traceback/],
    ['a timeout', '', 124, /timed out/],
    ['an array', '[1, 2]\n', 0, /printed no JSON metrics/],
  ])('rejects %s with a clear message', (_, stdout, exitCode, message) => {
    const outcome = parseEvaluation(stdout, 'Traceback (most recent call last): boom', exitCode, task);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toMatch(message);
  });
});

describe('recording an attempt', () => {
  it('shows the agent the validation score and keeps the test score private', () => {
    const attempt = toAttempt(3, 'validate', { ok: true, metrics: { Score: 2 } }, { ok: true, metrics: { Score: 1.9 } });
    expect(attempt).toEqual({ step: 3, kind: 'validate', metrics: { Score: 2 }, shownMetrics: { Score: 1.9 } });
  });

  it('never shows the agent an error that only the private test split raised', () => {
    const attempt = toAttempt(3, 'validate', { ok: false, error: 'test seed 4104 broke your code' }, { ok: true, metrics: { Score: 1.9 } });
    expect(attempt.error).toBeUndefined();
    expect(attempt.scoringError).toBe('test seed 4104 broke your code');
    expect(attempt.metrics).toBeUndefined();
    expect(attempt.shownMetrics).toEqual({ Score: 1.9 });
  });

  it('classifies a missing artifact and a bad one', () => {
    expect(toAttempt(1, 'submit', { ok: false, error: 'submission artefact submission.csv not found in the workspace' }, { ok: false, error: 'submission artefact submission.csv not found in the workspace' }).errorKind).toBe('submission_not_found');
    expect(toAttempt(1, 'submit', { ok: false, error: 'wrong length' }, { ok: false, error: 'wrong length' }).errorKind).toBe('evaluation_format_error');
  });
});

describe('the grading key: when an earlier grading may stand for a new one', () => {
  const task = fixtureTask('sandboxProbe');
  const file: ManifestEntry = { path: 'submission.csv', type: 'file', mode: 0o100644, uid: 1000, gid: 1000, mtime: 1, size: 3, chunks: ['a'.repeat(64)], stat: '12:3:1:1' };
  const workspace = { entries: [{ path: 'src', type: 'directory', mode: 0o40755, uid: 1000, gid: 1000, mtime: 1 } as ManifestEntry, file] };
  const files = Buffer.from('grader files');
  const key = gradingKey(workspace, files, 'mlgym-env:1', task);

  it('is the same for the same workspace, grader, image and task; a read that was racy does not count', () => {
    expect(gradingKey(structuredClone(workspace), Buffer.from('grader files'), 'mlgym-env:1', fixtureTask('sandboxProbe'))).toBe(key);
    expect(gradingKey({ entries: [workspace.entries[0]!, { ...file, racy: true }] }, files, 'mlgym-env:1', task)).toBe(key);
  });

  it.each([
    ['content', { chunks: ['b'.repeat(64)] }],
    ['a rewrite of the same bytes (inode, change time)', { stat: '13:3:1:2' }],
    ['a mode', { mode: 0o100600 }],
    ['a modification time', { mtime: 2 }],
    ['a name', { path: 'submission2.csv' }],
  ])('changes with the workspace: %s', (_, change) => {
    expect(gradingKey({ entries: [workspace.entries[0]!, { ...file, ...change } as ManifestEntry] }, files, 'mlgym-env:1', task)).not.toBe(key);
  });

  it('changes with an added file, the grader files, the image and the task settings the grader reads', () => {
    expect(gradingKey({ entries: [...workspace.entries, { ...file, path: 'extra.py' }] }, files, 'mlgym-env:1', task)).not.toBe(key);
    expect(gradingKey(workspace, Buffer.from('grader files, changed'), 'mlgym-env:1', task)).not.toBe(key);
    expect(gradingKey(workspace, files, 'mlgym-env:2', task)).not.toBe(key);
    expect(gradingKey(workspace, files, 'mlgym-env:1', { ...task, split_secrets: { ...task.split_secrets, test: { seed: 99 } } })).not.toBe(key);
    expect(gradingKey(workspace, files, 'mlgym-env:1', { ...task, data: 'fixture' })).not.toBe(key);
  });

  it('reuses only successful outcomes of every split asked for, under the same key', () => {
    const ok = { ok: true as const, metrics: { accuracy: 1 } };
    const earlier = { key, step: 3, outcomes: { validation: ok, test: ok } };
    expect(reusableOutcomes(earlier, key, ['test'])).toEqual({ validation: undefined, test: ok });
    expect(reusableOutcomes(earlier, key, ['validation', 'test'])).toEqual({ validation: ok, test: ok });
    expect(reusableOutcomes(earlier, 'another key', ['test'])).toBeUndefined();
    expect(reusableOutcomes({ ...earlier, outcomes: { test: ok } }, key, ['validation', 'test'])).toBeUndefined();
    expect(reusableOutcomes({ ...earlier, outcomes: { validation: ok, test: { ok: false, error: 'the evaluation timed out' } } }, key, ['test'])).toBeUndefined();
    expect(reusableOutcomes(undefined, key, ['test'])).toBeUndefined();
  });
});
