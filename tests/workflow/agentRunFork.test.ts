// A fork on the time-skipping test server, against stub activities: the workflow's part of `mlgym fork`
// (its provisioning, where its steps start, its hint and inherited attempts) and of `mlgym rescore`.
import { describe, expect, it } from 'vitest';
import type { RescoreInput, RescoreResult } from '../../lib/rescore/types.js';
import type { Attempt, RunInput, RunResult, TurnResult } from '../../lib/run/types.js';
import { MlgymBestScore } from '../../lib/temporal/searchAttributes.js';
import type { agentRun } from '../../workflows/agentRun.js';
import type { rescore } from '../../workflows/rescore.js';
import { useWorkflowTestEnv } from '../helpers/timeSkipping.js';

const provisioned = { containerId: 'container', image: 'mlgym-task:stub', primaryMetric: 'Score', direction: 'max' as const };
const inheritedValidate: Attempt = { step: 2, kind: 'validate', metrics: { Score: 12 } };

const t = useWorkflowTestEnv(() => ({
  reserveGpus: async () => [],
  provision: async () => provisioned,
  forkProvision: async () => ({ ...provisioned, inherited: { step: 4, attempts: [inheritedValidate], lastAction: 'python train.py' } }),
  snapshot: async () => ({ bytes: 1 }),
  agentTurn: async ({ step, hints }): Promise<TurnResult> => ({ action: step === 5 ? { kind: 'submit' } : { kind: 'command', command: 'ls' }, thought: '', costUsd: 0.5, hints }),
  toolExec: async () => ({ exitCode: 0, timedOut: false, outputChars: 1 }),
  validate: async ({ step }) => ({ step, kind: 'validate', metrics: { Score: step } }),
  submit: async ({ step }) => ({ step, kind: 'submit', metrics: { Score: 100 + step } }),
  score: async (input): Promise<RunResult> => ({ runId: input.runId, task: input.taskId, model: input.model, status: 'completed', exitStatus: 'submitted', steps: input.steps, costUsd: input.costUsd, attempts: input.attempts, bestAttempt: null, submission: input.attempts.at(-1) ?? null }),
  teardown: async () => undefined,
}));

describe('agentRun with a fork input', () => {
  it("provisions as a fork, goes on from the parent's next step with the hint, and keeps the parent's attempts", async () => {
    t.stubs.use();
    const input: RunInput = { runId: 'run-fork-1', taskId: 'prisonersDilemma', model: 'stub', seed: 0, maxSteps: 10, keep: false, continueEvery: 100, budgetUsd: 1, fork: { parentRunId: 'run-parent', atStep: 3, hint: 'try the other idea' } };
    const handle = await t.client.workflow.start<typeof agentRun>('agentRun', { taskQueue: t.taskQueue, workflowId: input.runId, args: [input] });
    const result = await handle.result();

    expect(t.stubs.argsOf('provision')).toEqual([]);
    expect(t.stubs.argsOf('forkProvision')).toEqual([expect.objectContaining({ runId: 'run-fork-1', fork: input.fork })]);
    const turns = t.stubs.argsOf('agentTurn');
    expect(turns.map((a) => [a.step, a.hints])).toEqual([
      [4, ['try the other idea']],
      [5, []],
    ]);
    expect(result.steps).toBe(6);
    expect(result.costUsd).toBe(1); // its own two turns only
    expect(result.attempts).toEqual([inheritedValidate, { step: 5, kind: 'submit', metrics: { Score: 105 } }]);
    expect((await handle.describe()).typedSearchAttributes.get(MlgymBestScore)).toBe(105);
  });

  it('a run without a fork input provisions as before', async () => {
    t.stubs.use();
    const input: RunInput = { runId: 'run-plain-1', taskId: 'prisonersDilemma', model: 'stub', seed: 0, maxSteps: 10, keep: false, continueEvery: 100, budgetUsd: 1 };
    await t.client.workflow.execute<typeof agentRun>('agentRun', { taskQueue: t.taskQueue, workflowId: input.runId, args: [input] });
    expect(t.stubs.argsOf('forkProvision')).toEqual([]);
    expect(t.stubs.argsOf('agentTurn').map((a) => a.step)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('rescore', () => {
  it("regrades each run, then recomputes a benchmark's scores from the new ones", async () => {
    const submission = (runId: string, score: number): Attempt => ({ step: 3, kind: 'submit', metrics: { Score: score } });
    t.stubs.use({
      regrade: async ({ runId }) => ({ runId, task: 'taskA', evaluatorVersion: 'sha256:0123456789abcdef', at: '', attempts: [submission(runId, runId === 'r1' ? 7 : 9)], submission: submission(runId, runId === 'r1' ? 7 : 9), previousSubmission: null }),
      scoreBenchmark: async (runs) => ({ runs: [], scores: [], aup: { tauMax: 1, bestAttempt: {}, bestSubmission: Object.fromEntries(runs.map((r) => [r.model, r.attempts[0]!.metrics!.Score!])) } }),
    });
    const input: RescoreInput = {
      target: 'bench-x',
      runs: [
        { runId: 'r1', taskId: 'taskA', model: 'm1', seed: 0 },
        { runId: 'r2', taskId: 'taskA', model: 'm2', seed: 0 },
      ],
      all: false,
      bench: {},
    };
    const result: RescoreResult = await t.client.workflow.execute<typeof rescore>('rescore', { taskQueue: t.taskQueue, workflowId: 'rescore-bench-x', args: [input] });
    expect(t.stubs.names()).toEqual(['regrade', 'regrade', 'scoreBenchmark']);
    expect(t.stubs.argsOf('regrade').map((a) => [a.runId, a.all])).toEqual([
      ['r1', false],
      ['r2', false],
    ]);
    expect(t.stubs.argsOf('scoreBenchmark')[0]).toEqual([
      expect.objectContaining({ runId: 'r1', model: 'm1', status: 'completed', attempts: [{ kind: 'submit', metrics: { Score: 7 } }] }),
      expect.objectContaining({ runId: 'r2', model: 'm2', attempts: [{ kind: 'submit', metrics: { Score: 9 } }] }),
    ]);
    expect(result.scores?.aup.bestSubmission).toEqual({ m1: 7, m2: 9 });
  });
});
