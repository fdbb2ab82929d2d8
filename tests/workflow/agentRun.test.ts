// The agentRun workflow on the time-skipping test server, against stub activities: controls (pause,
// resume, hints, cancel, budget), every way a run ends, failure handling and continue-as-new.
import { ApplicationFailure } from '@temporalio/activity';
import { ActivityFailure, CancelledFailure, WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { bestAttempt, exitStatus } from '../../lib/run/score.js';
import type { AgentAction, Attempt, CancelMode, ExitReason, RunInput, RunResult, TurnResult } from '../../lib/run/types.js';
import { MlgymBestScore, MlgymStatus } from '../../lib/temporal/searchAttributes.js';
import type { agentRun } from '../../workflows/agentRun.js';
import { addBudgetUpdate, cancelUpdate, hintSignal, pauseSignal, resumeSignal, statusQuery } from '../../workflows/messages.js';
import { eventually, useWorkflowTestEnv, type StubImpl } from '../helpers/timeSkipping.js';

type Run = WorkflowHandle<typeof agentRun>;
type AgentTurnInput = Parameters<NonNullable<StubImpl['agentTurn']>>[0];

const COST_PER_TURN = 0.25;
const command = (c = 'python train.py'): AgentAction => ({ kind: 'command', command: c });
const exit = (reason: ExitReason): AgentAction => ({ kind: 'exit', reason });

/** An agent that plays `actions` by step (a command once they run out), each turn costing COST_PER_TURN. */
function scripted(actions: AgentAction[], before?: (input: AgentTurnInput) => Promise<void>): NonNullable<StubImpl['agentTurn']> {
  return async (input) => {
    await before?.(input);
    const turn: TurnResult = { action: actions[input.step] ?? command(), thought: `step ${input.step}`, costUsd: COST_PER_TURN, hints: input.hints };
    return turn;
  };
}

/** The grader: a validation scores 10 + step, a submission 100 + step (on the primary metric Score). */
const grade = (kind: 'validate' | 'submit') => async ({ step }: { step: number }): Promise<Attempt> => ({ step, kind, metrics: { Score: (kind === 'submit' ? 100 : 10) + step } });

const t = useWorkflowTestEnv(() => ({
  reserveGpus: async () => [],
  provision: async () => ({ containerId: 'container', image: 'mlgym-task:stub', primaryMetric: 'Score', direction: 'max', hostQueue: t.taskQueue }),
  snapshot: async () => ({ bytes: 1 }),
  agentTurn: scripted([]),
  toolExec: async () => ({ exitCode: 0, timedOut: false, outputChars: 10 }),
  validate: grade('validate'),
  submit: grade('submit'),
  // What activities/score.ts computes, from the same pure functions.
  score: async (input) => {
    const final = input.attempts.filter((a) => a.kind === 'submit').at(-1) ?? null;
    const result: RunResult = {
      runId: input.runId,
      task: input.taskId,
      model: input.model,
      status: final?.metrics ? 'completed' : 'failed',
      exitStatus: exitStatus(final, input.endedBy),
      steps: input.steps,
      costUsd: input.costUsd,
      attempts: input.attempts,
      bestAttempt: bestAttempt(input.attempts, 'Score', 'max'),
      submission: final?.metrics ? final : null,
    };
    return result;
  },
  teardown: async () => undefined,
}), (t) => t.client.workflow.execute<typeof agentRun>('agentRun', { taskQueue: t.taskQueue, workflowId: 'run-warm-up', args: [runInput({ runId: 'run-warm-up', maxSteps: 0 })] }));

let runs = 0;
function runInput(overrides: Partial<RunInput> = {}): RunInput {
  const runId = `run-${++runs}`;
  return { runId, taskId: 'prisonersDilemma', model: 'stub', seed: 0, maxSteps: 10, keep: false, continueEvery: 100, budgetUsd: 1, ...overrides };
}

function start(input: RunInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof agentRun>> {
  return t.client.workflow.start<typeof agentRun>('agentRun', { taskQueue: t.taskQueue, workflowId: input.runId, args: [input] });
}

const handle = (runId: string): Run => t.client.workflow.getHandle<typeof agentRun>(runId);
const steps = (name: 'agentTurn' | 'toolExec') => t.stubs.argsOf(name).map((a) => a.step);
const status = (run: Run) => run.query(statusQuery);
const searchAttribute = async <T>(run: Run, key: Parameters<Awaited<ReturnType<Run['describe']>>['typedSearchAttributes']['get']>[0]) =>
  (await run.describe()).typedSearchAttributes.get(key) as T | undefined;

/** The run failed: its failure, for assertions. */
async function failureOf(run: Run): Promise<WorkflowFailedError> {
  const err = await run.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return err as WorkflowFailedError;
}

describe('agentRun on the time-skipping server', () => {
  it('runs provision → turns → submit → score → teardown when the agent submits', async () => {
    t.stubs.use({ agentTurn: scripted([command(), { kind: 'validate' }, { kind: 'submit' }]) });
    const input = runInput();
    const run = await start(input);
    const result = await run.result();

    expect(t.stubs.names()).toEqual(['provision', 'agentTurn', 'toolExec', 'agentTurn', 'validate', 'agentTurn', 'submit', 'score', 'teardown']);
    expect(t.stubs.argsOf('score')[0]).toMatchObject({ runId: input.runId, steps: 3, costUsd: 3 * COST_PER_TURN, endedBy: 'submit' });
    expect(result).toMatchObject({ status: 'completed', exitStatus: 'submitted', steps: 3, costUsd: 0.75, submission: { step: 2, kind: 'submit', metrics: { Score: 102 } } });
    expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
    expect(t.stubs.argsOf('teardown')).toEqual([{ runId: input.runId, keep: false }]);
    expect(await searchAttribute(run, MlgymStatus)).toBe('completed');
    expect(await searchAttribute(run, MlgymBestScore)).toBe(102);
  });

  it("MLGym's protocol reaches validate, the autosubmit and score; the status query and the run's summary show it", async () => {
    const input = runInput({ protocol: 'mlgym', maxSteps: 2 });
    let during: Awaited<ReturnType<typeof status>> | undefined;
    t.stubs.use({
      agentTurn: scripted([{ kind: 'validate' }, command()]),
      toolExec: async () => {
        during = await status(handle(input.runId));
        return { exitCode: 0, timedOut: false, outputChars: 1 };
      },
    });
    const run = await start(input);
    await run.result();
    expect(t.stubs.argsOf('validate')).toMatchObject([{ protocol: 'mlgym' }]);
    // max_steps: the autosubmit is graded under the run's protocol too.
    expect(t.stubs.argsOf('submit')).toMatchObject([{ protocol: 'mlgym' }]);
    expect(t.stubs.argsOf('score')).toMatchObject([{ protocol: 'mlgym', endedBy: 'max_steps' }]);
    expect(during).toMatchObject({ protocol: 'mlgym', status: 'running' });

    t.stubs.use({ agentTurn: scripted([{ kind: 'validate' }, { kind: 'submit' }]) });
    const ours = await start(runInput());
    await ours.result();
    expect(t.stubs.argsOf('validate')[0]!.protocol).toBeUndefined();
    expect(await status(ours)).toMatchObject({ protocol: 'ours' });
  });

  it('a run needing GPUs reserves them before provisioning, once', async () => {
    t.stubs.use({ agentTurn: scripted([command(), command(), { kind: 'submit' }]) });
    const input = runInput({ gpus: 2, continueEvery: 1 });
    const result = await (await start(input)).result();

    expect(t.stubs.argsOf('reserveGpus')).toEqual([{ runId: input.runId, count: 2 }]);
    expect(t.stubs.names().slice(0, 2)).toEqual(['reserveGpus', 'provision']);
    expect(t.stubs.argsOf('provision')[0]).toMatchObject({ runId: input.runId, gpus: 2 });
    // Two continue-as-new on the way (continueEvery 1): neither reserves nor provisions again.
    expect(new Set(t.stubs.of('agentTurn').map((c) => c.workflowRunId)).size).toBe(3);
    expect(result.exitStatus).toBe('submitted');
  });

  it('pause stops the loop before the next step, the status query says paused, resume continues', async () => {
    const input = runInput();
    t.stubs.use({
      agentTurn: scripted([command(), command(), command(), { kind: 'submit' }]),
      // The pause arrives while step 1's command runs: step 1 finishes, step 2 must not start.
      toolExec: async ({ step }) => {
        if (step === 1) await handle(input.runId).signal(pauseSignal);
        return { exitCode: 0, timedOut: false, outputChars: 1 };
      },
    });
    const run = await start(input);

    const paused = await eventually(() => status(run), (s) => s.status === 'paused');
    expect(paused).toMatchObject({ status: 'paused', step: 2, costUsd: 2 * COST_PER_TURN, lastAction: 'python train.py' });
    expect(steps('agentTurn')).toEqual([0, 1]);
    expect(await searchAttribute(run, MlgymStatus)).toBe('paused');
    // Still paused and still at step 2 on a second look.
    expect(await status(run)).toMatchObject({ status: 'paused', step: 2 });
    expect(steps('agentTurn')).toEqual([0, 1]);

    await run.signal(resumeSignal);
    const result = await run.result();
    expect(steps('agentTurn')).toEqual([0, 1, 2, 3]);
    expect(result).toMatchObject({ exitStatus: 'submitted', steps: 4, costUsd: 4 * COST_PER_TURN });
    expect(t.stubs.argsOf('score')[0]!.endedBy).toBe('submit');
  });

  it("a hint reaches the next agentTurn's hints exactly once", async () => {
    const input = runInput();
    let pendingWhileTurning: number | undefined;
    t.stubs.use({
      agentTurn: scripted([command(), command(), command(), { kind: 'submit' }], async ({ step }) => {
        if (step !== 0) return;
        await handle(input.runId).signal(hintSignal, 'try a larger learning rate');
        await handle(input.runId).signal(hintSignal, 'and check the baseline');
        pendingWhileTurning = (await status(handle(input.runId))).pendingHints;
      }),
    });
    const result = await (await start(input)).result();

    expect(pendingWhileTurning).toBe(2);
    expect(t.stubs.argsOf('agentTurn').map((a) => a.hints)).toEqual([[], ['try a larger learning rate', 'and check the baseline'], [], []]);
    expect(result.exitStatus).toBe('submitted');
  });

  it("cancel 'autosubmit' ends the run after the current step with exit_cancel and the submitted score", async () => {
    const input = runInput();
    let accepted: CancelMode | undefined;
    let statusAfter: string | undefined;
    t.stubs.use({
      agentTurn: scripted([command(), command(), command(), command()], async ({ step }) => {
        if (step !== 1) return;
        accepted = await handle(input.runId).executeUpdate(cancelUpdate, { args: ['autosubmit'] });
        statusAfter = (await status(handle(input.runId))).status;
      }),
    });
    const result = await (await start(input)).result();

    expect(accepted).toBe('autosubmit');
    expect(statusAfter).toBe('finishing');
    expect(steps('agentTurn')).toEqual([0, 1]);
    expect(t.stubs.argsOf('submit')).toEqual([expect.objectContaining({ runId: input.runId, step: 2, image: 'mlgym-task:stub' })]);
    expect(t.stubs.argsOf('score')[0]).toMatchObject({ endedBy: 'exit_cancel', steps: 2 });
    expect(result).toMatchObject({ status: 'completed', exitStatus: 'autosubmission (exit_cancel)', submission: { kind: 'submit', metrics: { Score: 102 } } });
    expect(t.stubs.of('teardown')).toHaveLength(1);
  });

  it("cancel 'forfeit' of a paused run ends it with exit_forfeit and no submission", async () => {
    const input = runInput();
    t.stubs.use({
      toolExec: async ({ step }) => {
        if (step === 0) await handle(input.runId).signal(pauseSignal);
        return { exitCode: 0, timedOut: false, outputChars: 1 };
      },
    });
    const run = await start(input);
    await eventually(() => status(run), (s) => s.status === 'paused');

    expect(await run.executeUpdate(cancelUpdate, { args: ['forfeit'] })).toBe('forfeit');
    const result = await run.result();
    expect(steps('agentTurn')).toEqual([0]);
    expect(t.stubs.of('submit')).toHaveLength(0);
    expect(t.stubs.argsOf('score')[0]).toMatchObject({ endedBy: 'exit_forfeit', attempts: [] });
    expect(result).toMatchObject({ status: 'failed', exitStatus: 'exit_forfeit', submission: null, steps: 1 });
    expect(t.stubs.of('teardown')).toHaveLength(1);
  });

  it('cancel with an unknown mode is rejected by the validator and the run goes on', async () => {
    const input = runInput();
    t.stubs.use({
      agentTurn: scripted([command(), command(), { kind: 'submit' }]),
      toolExec: async ({ step }) => {
        if (step === 0) await handle(input.runId).signal(pauseSignal);
        return { exitCode: 0, timedOut: false, outputChars: 1 };
      },
    });
    const run = await start(input);
    await eventually(() => status(run), (s) => s.status === 'paused');

    const rejected = await run.executeUpdate(cancelUpdate, { args: ['abort' as CancelMode] }).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((rejected as WorkflowUpdateFailedError).cause?.message)).toMatch(/cancel mode must be "autosubmit" or "forfeit", got "abort"/);
    expect(await status(run)).toMatchObject({ status: 'paused', step: 1 });

    await run.signal(resumeSignal);
    const result = await run.result();
    expect(steps('agentTurn')).toEqual([0, 1, 2]);
    expect(result.exitStatus).toBe('submitted');
    expect(t.stubs.argsOf('score')[0]!.endedBy).toBe('submit');
  });

  it('addBudget rejects a non-positive amount and passes an accepted one to the next agentTurn', async () => {
    const input = runInput({ budgetUsd: 1 });
    const rejections: unknown[] = [];
    let accepted: number | undefined;
    t.stubs.use({
      agentTurn: scripted([command(), command(), { kind: 'submit' }], async ({ step }) => {
        if (step !== 0) return;
        const run = handle(input.runId);
        for (const usd of [0, -2]) rejections.push(await run.executeUpdate(addBudgetUpdate, { args: [usd] }).catch((e: unknown) => e));
        accepted = await run.executeUpdate(addBudgetUpdate, { args: [0.5] });
      }),
    });
    const run = await start(input);
    const result = await run.result();

    expect(rejections).toHaveLength(2);
    for (const [i, err] of rejections.entries()) {
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain(`positive number of dollars, got ${[0, -2][i]}`);
    }
    expect(accepted).toBe(1.5);
    expect(t.stubs.argsOf('agentTurn').map((a) => a.budgetUsd)).toEqual([1, 1.5, 1.5]);
    expect((await status(run)).budgetUsd).toBe(1.5);
    expect(result.exitStatus).toBe('submitted');
  });

  it('an agent turn that reports the budget exhausted (exit_cost) autosubmits', async () => {
    t.stubs.use({ agentTurn: scripted([command(), { kind: 'validate' }, exit('exit_cost')]) });
    const run = await start(runInput());
    const result = await run.result();

    expect(steps('agentTurn')).toEqual([0, 1, 2]);
    expect(steps('toolExec')).toEqual([0]);
    expect(t.stubs.argsOf('submit').map((a) => a.step)).toEqual([3]);
    expect(t.stubs.argsOf('score')[0]).toMatchObject({ endedBy: 'exit_cost', steps: 3, costUsd: 3 * COST_PER_TURN });
    expect(result).toMatchObject({ status: 'completed', exitStatus: 'autosubmission (exit_cost)', submission: { metrics: { Score: 103 } } });
    expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
    expect((await status(run)).lastAction).toBe('exit_cost');
  });

  it('reaching maxSteps autosubmits with max_steps', async () => {
    t.stubs.use();
    const input = runInput({ maxSteps: 3 });
    const result = await (await start(input)).result();

    expect(steps('agentTurn')).toEqual([0, 1, 2]);
    expect(t.stubs.argsOf('agentTurn').every((a) => a.maxSteps === 3)).toBe(true);
    expect(steps('toolExec')).toEqual([0, 1, 2]);
    expect(t.stubs.argsOf('submit').map((a) => a.step)).toEqual([3]);
    expect(t.stubs.argsOf('score')[0]).toMatchObject({ endedBy: 'max_steps', steps: 3 });
    expect(result).toMatchObject({ exitStatus: 'autosubmission (max_steps)', steps: 3, costUsd: 0.75 });
  });

  for (const reason of ['exit_format', 'exit_context', 'exit_error'] as const) {
    it(`an agent exit with ${reason} autosubmits`, async () => {
      t.stubs.use({ agentTurn: scripted([command(), exit(reason)]) });
      const result = await (await start(runInput())).result();

      expect(steps('agentTurn')).toEqual([0, 1]);
      expect(t.stubs.argsOf('submit').map((a) => a.step)).toEqual([2]);
      expect(t.stubs.argsOf('score')[0]!.endedBy).toBe(reason);
      expect(result.exitStatus).toBe(`autosubmission (${reason})`);
      expect(t.stubs.names().slice(-3)).toEqual(['submit', 'score', 'teardown']);
    });
  }

  it('an autosubmission the grader cannot evaluate is still scored and torn down', async () => {
    t.stubs.use({
      agentTurn: scripted([exit('exit_format')]),
      submit: async ({ step }) => ({ step, kind: 'submit', error: 'no submission file', errorKind: 'submission_not_found' }),
    });
    const result = await (await start(runInput())).result();
    expect(result).toMatchObject({ status: 'failed', exitStatus: 'submission_not_found (exit_format)', submission: null });
    expect(t.stubs.of('teardown')).toHaveLength(1);
  });

  it('a model unreachable through every retry ends with exit_api and autosubmits', async () => {
    t.stubs.use({
      agentTurn: scripted([command()], async ({ step }) => {
        if (step === 1) throw ApplicationFailure.retryable('503 Service Unavailable', 'LlmUnavailable');
      }),
    });
    const run = await start(runInput());
    const result = await run.result();

    const turns = t.stubs.of('agentTurn');
    // Step 0 once; step 1 every one of its 20 attempts (the workflow's maximumAttempts for agentTurn).
    expect(turns.map((c) => [c.args[0].step, c.attempt])).toEqual([[0, 1], ...Array.from({ length: 20 }, (_, i) => [1, i + 1])]);
    expect(steps('toolExec')).toEqual([0]);
    expect(t.stubs.argsOf('submit').map((a) => a.step)).toEqual([2]);
    expect(t.stubs.argsOf('score')[0]).toMatchObject({ endedBy: 'exit_api', steps: 2, costUsd: COST_PER_TURN });
    expect(result.exitStatus).toBe('autosubmission (exit_api)');
    expect((await status(run)).lastAction).toBe('exit_api: 503 Service Unavailable');
  });

  it('a ConfigError from agentTurn fails the run at once, without autosubmission, and still tears down', async () => {
    t.stubs.use({
      agentTurn: scripted([command()], async ({ step }) => {
        if (step === 1) throw ApplicationFailure.create({ message: 'unknown model "stub"', type: 'ConfigError' });
      }),
    });
    const input = runInput({ keep: true });
    const run = await start(input);
    const failure = await failureOf(run);

    expect(failure.cause).toBeInstanceOf(ActivityFailure);
    expect(failure.cause?.cause).toBeInstanceOf(ApplicationFailure);
    expect((failure.cause?.cause as ApplicationFailure).type).toBe('ConfigError');
    expect(t.stubs.of('agentTurn').map((c) => [c.args[0].step, c.attempt])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(t.stubs.of('submit')).toHaveLength(0);
    expect(t.stubs.of('score')).toHaveLength(0);
    expect(t.stubs.argsOf('teardown')).toEqual([{ runId: input.runId, keep: true }]);
    expect(await searchAttribute(run, MlgymStatus)).toBe('failed');
  });

  it('a failing tool exec fails the run, and teardown still runs', async () => {
    t.stubs.use({
      toolExec: async ({ step }) => {
        if (step === 1) throw ApplicationFailure.nonRetryable('container is gone', 'SandboxLost');
        return { exitCode: 0, timedOut: false, outputChars: 1 };
      },
    });
    const run = await start(runInput());
    const failure = await failureOf(run);

    expect(failure.cause).toBeInstanceOf(ActivityFailure);
    expect((failure.cause?.cause as ApplicationFailure).message).toBe('container is gone');
    expect(steps('toolExec')).toEqual([0, 1]);
    expect(t.stubs.of('score')).toHaveLength(0);
    expect(t.stubs.names().at(-1)).toBe('teardown');
    expect(await searchAttribute(run, MlgymStatus)).toBe('failed');
  });

  it("a run whose host goes silent moves: another host rebuilds it and runs the step, no turn is asked again", async () => {
    // No worker polls this queue. The test server does not skip time for a schedule-to-start timeout: the host timeout is 1 s.
    const lost = `${t.taskQueue}-lost-host`;
    t.stubs.use({
      provision: async () => ({ containerId: 'container', image: 'mlgym-task:stub', primaryMetric: 'Score', direction: 'max', hostQueue: lost }),
      migrate: async () => ({ containerId: 'container-2', image: 'mlgym-task:stub', primaryMetric: 'Score', direction: 'max', hostQueue: t.taskQueue }),
      agentTurn: scripted([command('echo a'), command('echo b'), { kind: 'submit' }]),
    });
    const input = runInput({ hostTimeoutS: 1 });
    const run = await start(input);
    const result = await run.result();

    expect(t.stubs.names()).toEqual(['provision', 'agentTurn', 'migrate', 'toolExec', 'agentTurn', 'toolExec', 'agentTurn', 'submit', 'score', 'teardown']);
    expect(t.stubs.argsOf('migrate')).toEqual([expect.objectContaining({ runId: input.runId, step: 0, from: lost, index: 0 })]);
    expect(steps('toolExec')).toEqual([0, 1]);
    expect(result).toMatchObject({ exitStatus: 'submitted', steps: 3, costUsd: 3 * COST_PER_TURN });
    expect(await status(run)).toMatchObject({ hostQueue: t.taskQueue, migrations: 1 });
  });

  it("a host whose Docker engine stopped answering (HostLost) is left the same way: the step runs again on the new host", async () => {
    let calls = 0;
    t.stubs.use({
      toolExec: async () => {
        if (++calls === 1) throw ApplicationFailure.nonRetryable("this host's Docker engine does not answer", 'HostLost');
        return { exitCode: 0, timedOut: false, outputChars: 1 };
      },
      migrate: async () => ({ containerId: 'container-2', image: 'mlgym-task:stub', primaryMetric: 'Score', direction: 'max', hostQueue: t.taskQueue }),
      agentTurn: scripted([command(), { kind: 'submit' }]),
    });
    const input = runInput();
    const result = await (await start(input)).result();

    expect(t.stubs.names()).toEqual(['provision', 'agentTurn', 'toolExec', 'migrate', 'toolExec', 'agentTurn', 'submit', 'score', 'teardown']);
    expect(t.stubs.argsOf('migrate')).toEqual([expect.objectContaining({ step: 0, from: t.taskQueue, index: 0 })]);
    expect(t.stubs.argsOf('toolExec').map((a) => a.hostTimeoutS)).toEqual([300, 300]);
    expect(result.exitStatus).toBe('submitted');
  });

  it('another failure of a container activity is not a lost host: the run fails without moving', async () => {
    t.stubs.use({
      toolExec: async () => {
        throw ApplicationFailure.nonRetryable('bad input', 'SomethingElse');
      },
    });
    const run = await start(runInput());
    await failureOf(run);
    expect(t.stubs.of('migrate')).toHaveLength(0);
  });

  it('a host lost by the time of the teardown does not hold the run: it ends, its container left to that host', async () => {
    const lost = `${t.taskQueue}-lost-host`;
    t.stubs.use({
      provision: async () => ({ containerId: 'container', image: 'mlgym-task:stub', primaryMetric: 'Score', direction: 'max', hostQueue: lost }),
      agentTurn: scripted([exit('exit_forfeit')]),
    });
    const run = await start(runInput({ hostTimeoutS: 1 }));
    const result = await run.result();

    expect(t.stubs.names()).toEqual(['provision', 'agentTurn', 'score']);
    expect(result).toMatchObject({ exitStatus: 'exit_forfeit', submission: null });
    expect(await searchAttribute(run, MlgymStatus)).toBe('failed');
  });

  it('a cancelled workflow tears down and is marked cancelled', async () => {
    const input = runInput();
    t.stubs.use({
      toolExec: async ({ step }) => {
        if (step === 0) await handle(input.runId).signal(pauseSignal);
        return { exitCode: 0, timedOut: false, outputChars: 1 };
      },
    });
    const run = await start(input);
    await eventually(() => status(run), (s) => s.status === 'paused');
    await run.cancel();
    const failure = await failureOf(run);

    expect(failure.cause).toBeInstanceOf(CancelledFailure);
    expect(t.stubs.of('submit')).toHaveLength(0);
    expect(t.stubs.names().at(-1)).toBe('teardown');
    expect(await searchAttribute(run, MlgymStatus)).toBe('cancelled');
  });

  it('a workflow cancelled while an activity runs tears down and is marked cancelled', async () => {
    const input = runInput();
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    let turnStarted: () => void = () => undefined;
    const started = new Promise<void>((r) => (turnStarted = r));
    // The turn of step 1 is still running when the run is cancelled (an operator's `temporal workflow cancel`).
    t.stubs.use({
      agentTurn: scripted([], async ({ step }) => {
        if (step !== 1) return;
        turnStarted();
        await released;
      }),
    });
    const run = await start(input);
    await started;
    let failure: WorkflowFailedError;
    try {
      await run.cancel();
      failure = await failureOf(run);
    } finally {
      release(); // only once the run has ended: the workflow does not wait for the cancelled turn
    }

    expect(failure.cause).toBeInstanceOf(CancelledFailure);
    expect(steps('agentTurn')).toEqual([0, 1]);
    expect(t.stubs.of('submit')).toHaveLength(0);
    expect(t.stubs.names().at(-1)).toBe('teardown');
    expect(await searchAttribute(run, MlgymStatus)).toBe('cancelled');
  });

  it('continues as new every continueEvery steps, carrying step count, cost, budget, attempts and hints', async () => {
    const input = runInput({ maxSteps: 5, continueEvery: 2 });
    t.stubs.use({
      agentTurn: scripted([command(), { kind: 'validate' }, command(), command(), command()]),
      // A hint and more budget arrive after the execution's last turn, while it snapshots before continuing.
      snapshot: async ({ step }) => {
        if (step === 2) {
          await handle(input.runId).signal(hintSignal, 'carried over');
          await handle(input.runId).executeUpdate(addBudgetUpdate, { args: [0.5] });
        }
        return { bytes: 1 };
      },
    });
    const run = await start(input);
    const result = await run.result();

    const turns = t.stubs.of('agentTurn');
    const executions = [...new Set(turns.map((c) => c.workflowRunId))];
    expect(executions).toHaveLength(3);
    expect(turns.map((c) => [c.args[0].step, executions.indexOf(c.workflowRunId)])).toEqual([
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
      [4, 2],
    ]);
    expect(turns[0]!.workflowRunId).toBe(run.firstExecutionRunId);
    // Snapshot of step 2 by the first execution before the second's first turn; of step 4 likewise.
    const names = t.stubs.calls.map((c) => `${c.name}${'step' in (c.args[0] as object) ? `@${(c.args[0] as { step: number }).step}` : ''}`);
    expect(names.indexOf('snapshot@2')).toBeLessThan(names.indexOf('agentTurn@2'));
    expect(names.indexOf('snapshot@4')).toBeLessThan(names.indexOf('agentTurn@4'));
    expect(t.stubs.of('snapshot').map((c) => [c.args[0].step, executions.indexOf(c.workflowRunId)])).toEqual([
      [2, 0],
      [4, 1],
    ]);
    // Provisioned once; the hint and budget sent to the first execution reach the second's first turn.
    expect(t.stubs.of('provision')).toHaveLength(1);
    expect(turns.map((c) => c.args[0].hints)).toEqual([[], [], ['carried over'], [], []]);
    expect(turns.map((c) => c.args[0].budgetUsd)).toEqual([1, 1, 1.5, 1.5, 1.5]);
    expect(t.stubs.argsOf('score')[0]).toMatchObject({ endedBy: 'max_steps', steps: 5, costUsd: 5 * COST_PER_TURN });
    expect(result).toMatchObject({ steps: 5, costUsd: 1.25, exitStatus: 'autosubmission (max_steps)' });
    expect(result.attempts).toEqual([
      { step: 1, kind: 'validate', metrics: { Score: 11 } },
      { step: 5, kind: 'submit', metrics: { Score: 105 } },
    ]);
    // The image found by provisioning in the first execution is used by the last one.
    expect(t.stubs.argsOf('submit')[0]!.image).toBe('mlgym-task:stub');
    const first = await t.client.workflow.getHandle(input.runId, run.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
  });
});
