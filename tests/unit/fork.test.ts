import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forkInput } from '../../cli/fork.js';
import { syntheticCall } from '../../lib/fork/history.js';
import { trajectorySection } from '../../lib/report/html/runs.js';
import type { RunRecords } from '../../lib/report/records.js';
import { runFromRecords } from '../../lib/report/run.js';
import { evaluatorVersion } from '../../lib/rescore/evaluatorVersion.js';
import type { RunInput } from '../../lib/run/types.js';

const parent: RunInput = { runId: 'run-p', taskId: 'sandboxProbe', model: 'baseline', seed: 3, maxSteps: 20, keep: false, continueEvery: 100, budgetUsd: 2, benchId: 'bench-1', fork: { parentRunId: 'run-gp', atStep: 1 } };

describe('forkInput', () => {
  it("keeps the parent's settings, links the parent, and leaves its benchmark and own link behind", () => {
    const input = forkInput(parent, 4, { hint: 'look at f5' });
    expect(input).toMatchObject({ taskId: 'sandboxProbe', model: 'baseline', seed: 3, maxSteps: 20, budgetUsd: 2, fork: { parentRunId: 'run-p', atStep: 4, hint: 'look at f5' } });
    expect(input.runId).not.toBe('run-p');
    expect(input.benchId).toBeUndefined();
  });

  it('takes the flags that change it, and refuses ones that cannot work', () => {
    expect(forkInput(parent, 4, { maxSteps: '9', budgetUsd: '0.5' })).toMatchObject({ maxSteps: 9, budgetUsd: 0.5 });
    expect(() => forkInput(parent, 4, { maxSteps: '5' })).toThrow(/no step of its own/);
    expect(() => forkInput(parent, 4, { budgetUsd: '-1' })).toThrow(/--budget-usd/);
    expect(() => forkInput(parent, 4, { hint: '  ' })).toThrow(/--hint/);
    expect(() => forkInput(parent, 4, { model: 'nonsense-spec!' })).toThrow();
    expect(() => forkInput({ ...parent, model: 'external' }, 4, {})).toThrow(/--model/);
  });
});

describe('syntheticCall', () => {
  it("stands for a step taken without a model: its thought and action as the reply, at no cost, with the step's hints", () => {
    const call = syntheticCall(2, { action: { kind: 'command', command: 'ls -la' }, thought: 'look around', costUsd: 0, hints: ['h'] });
    expect(call.response?.choices[0]?.message.content).toBe('look around\n```\nls -la\n```');
    expect(call).toMatchObject({ step: 2, attempt: 0, costUsd: 0, hints: ['h'] });
  });
});

describe('evaluatorVersion', () => {
  it('changes when an evaluation or private file changes, not otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlgym-eval-'));
    writeFileSync(join(dir, 'evaluate.py'), 'print(1)\n');
    writeFileSync(join(dir, 'answers.csv'), 'a\n');
    const task = { dir, evaluation_paths: ['evaluate.py'], private_files: ['answers.csv'], datasets: [] };
    const first = evaluatorVersion(task);
    expect(first).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(evaluatorVersion(task)).toBe(first);
    writeFileSync(join(dir, 'answers.csv'), 'b\n');
    const second = evaluatorVersion(task);
    expect(second).not.toBe(first);
    writeFileSync(join(dir, 'evaluate.py'), 'print(2)\n');
    expect(evaluatorVersion(task)).not.toBe(second);
  });
});

describe('a run family in the report', () => {
  const records = (runId: string, extra: Partial<RunRecords>): RunRecords => ({
    runId,
    steps: [0, 1, 2].map((step) => ({ step, thought: '', action: `echo ${step}`, observation: '', costUsd: 0 })),
    attempts: [],
    calls: [],
    ...extra,
  });

  it('names a fork\'s parent and where it diverged, marks its inherited steps, and lists forks and rescores', () => {
    const fork = runFromRecords(
      records('run-f', {
        fork: { parentRunId: 'run-p', atStep: 1, snapshot: null, replayed: [], at: '' },
        forks: [{ forkId: 'run-ff', atStep: 2, model: 'm2', at: '' }],
        rescores: [{ runId: 'run-f', task: 't', evaluatorVersion: 'sha256:00000000000000aa', at: '1', attempts: [], submission: { step: 2, kind: 'submit', metrics: { Score: 3 } }, previousSubmission: null }],
      }),
      'here',
    );
    expect(fork.family).toEqual({ parent: { runId: 'run-p', atStep: 1 }, forks: [{ runId: 'run-ff', atStep: 2, model: 'm2' }] });
    const page = trajectorySection(fork, true).html;
    expect(page).toContain(`Fork of <a href="#run-run-p">run-p</a>: steps 0–1 are its parent's, diverged at step 2.`);
    expect(page).toContain('<a href="#run-run-ff">run-ff</a> (after step 2, m2)');
    expect(page.match(/from run-p/g)).toHaveLength(2); // steps 0 and 1
    expect(page).toContain('rescored</b> with evaluation sha256:00000000000000aa');
    expect(runFromRecords(records('run-plain', {}), 'here').family).toBeUndefined();
  });
});
