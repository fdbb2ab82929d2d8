import { describe, expect, it } from 'vitest';
import { toAttempt } from '../../activities/grade.js';
import { parseEvaluation } from '../../lib/sandbox/grader.js';

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
