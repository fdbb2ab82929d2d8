import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile, tasksDir } from '../../lib/home.js';
import { parseEvaluation } from '../../lib/sandbox/grader.js';
import { evaluateOnHost, type HostEvaluation } from './hostEvaluation.js';

// What the unit tests of the evaluation scripts check about one evaluation, run on the host's python3
// as the grader runs it (hostEvaluation.ts).

export type Evaluation = HostEvaluation;

export function evaluate(taskId: string, files: Record<string, string>, split: 'validation' | 'test' = 'validation', env: Record<string, string> = {}): Evaluation {
  return evaluateOnHost(taskId, files, split, env);
}

/** A rejected submission: exit 1, one JSON error line that matches, and the grader reads it as that error. */
export function expectRejected(result: Evaluation, message: RegExp): void {
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(1);
  expect(Object.keys(result.output)).toEqual(['error']);
  expect(result.output.error).toMatch(message);
  expect(parseEvaluation(result.stdout, result.stderr, result.exitCode!, { primary_metric: 'x' })).toEqual({ ok: false, error: result.output.error });
}

/** A scored submission: exit 0 and metrics holding the primary one; returns the metrics. */
export function expectScored(result: Evaluation, primary: string): Record<string, number> {
  expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  const parsed = parseEvaluation(result.stdout, result.stderr, 0, { primary_metric: primary });
  expect(parsed.ok).toBe(true);
  return (parsed as { metrics: Record<string, number> }).metrics;
}

/** A starter file of a task, as the workspace gets it. */
export const starter = (taskId: string, file: string) => readFileSync(join(tasksDir, taskId, file), 'utf8');
/** The task's recorded baseline_scores[0]. */
export const recorded = (taskId: string) => loadTask(taskFile(taskId), datasetsDir).baseline_scores[0]!;
