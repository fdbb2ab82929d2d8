// The benchmark workflow on the time-skipping test server: real child agentRuns against stub activities.
import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import type { BenchRun, BenchScores, BenchSpec, Comparison, Regression } from '../../lib/bench/types.js';
import type { Attempt, RunResult } from '../../lib/run/types.js';
import { MlgymBenchId, MlgymModel, MlgymRegression, MlgymStatus, MlgymSuite, MlgymTask } from '../../lib/temporal/searchAttributes.js';
import type { benchmark } from '../../workflows/benchmark.js';
import { useWorkflowTestEnv } from '../helpers/timeSkipping.js';

/** Every child run: one agent turn that submits (scoring 100 + step), costing $0.25. */
const RUN_COST = 0.25;

/** A finished run of an earlier execution of the benchmark. */
function finishedResult(runId: string, costUsd: number): RunResult {
  const submission: Attempt = { step: 3, kind: 'submit', metrics: { Score: 42 } };
  return { runId, task: 'taskA', model: 'm1', status: 'completed', exitStatus: 'submitted', steps: 4, costUsd, attempts: [submission], bestAttempt: submission, submission };
}

/** Per-test knobs of the stubs. */
const world = {
  /** Child run ids whose earlier result finishedRun returns, with their cost. */
  finished: new Map<string, number>(),
  /** Child run ids whose agent fails with a ConfigError. */
  failing: new Set<string>(),
  regressions: [] as Regression[],
  /** Runs between provision and teardown right now, and the most at once. */
  inFlight: 0,
  maxInFlight: 0,
  provisioned: 0,
  /** provision waits until this many runs are in flight (or every new run has started). */
  limit: 1,
  newRuns: 0,
};

function resetWorld(w: Partial<typeof world>): void {
  Object.assign(world, { finished: new Map(), failing: new Set(), regressions: [], inFlight: 0, maxInFlight: 0, provisioned: 0, limit: 1, newRuns: 0 }, w);
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

const t = useWorkflowTestEnv(() => ({
  provision: async () => {
    world.inFlight++;
    world.provisioned++;
    world.maxInFlight = Math.max(world.maxInFlight, world.inFlight);
    // Hold each run until the limit is reached, so the test sees whether more than `limit` can start.
    await until(() => world.inFlight >= world.limit || world.provisioned === world.newRuns);
    return { containerId: 'container', image: 'mlgym-task:stub', primaryMetric: 'Score', direction: 'max', hostQueue: t.taskQueue };
  },
  snapshot: async () => ({ bytes: 1 }),
  agentTurn: async ({ runId, step }) => {
    if (world.failing.has(runId)) throw ApplicationFailure.create({ message: `unknown model for ${runId}`, type: 'ConfigError' });
    return { action: { kind: 'submit' }, thought: `step ${step}`, costUsd: RUN_COST };
  },
  toolExec: async () => ({ exitCode: 0, timedOut: false, outputChars: 1 }),
  submit: async ({ step }) => ({ step, kind: 'submit', metrics: { Score: 100 + step } }),
  score: async (input) => {
    const submission = input.attempts.at(-1) ?? null;
    const result: RunResult = {
      runId: input.runId,
      task: input.taskId,
      model: input.model,
      status: 'completed',
      exitStatus: input.endedBy === 'submit' ? 'submitted' : `autosubmission (${input.endedBy})`,
      steps: input.steps,
      costUsd: input.costUsd,
      attempts: input.attempts,
      bestAttempt: submission,
      submission,
    };
    return result;
  },
  teardown: async () => {
    world.inFlight--;
  },
  finishedRun: async (runId) => (world.finished.has(runId) ? finishedResult(runId, world.finished.get(runId)!) : null),
  scoreBenchmark: async (runs: BenchRun[]): Promise<BenchScores> => ({
    runs: runs.map(({ attempts, ...run }) => ({ ...run, bestAttempt: null, submission: attempts.at(-1)?.metrics?.Score ?? null })),
    scores: [...new Set(runs.map((r) => `${r.task}/${r.model}`))].map((pair) => {
      const [task, model] = pair.split('/') as [string, string];
      return { task, model, metric: 'Score', direction: 'max' as const, bestAttempt: null, bestSubmission: 100 };
    }),
    aup: { tauMax: 1, bestAttempt: {}, bestSubmission: {} },
  }),
  compareWithPrevious: async (): Promise<Comparison> => ({ previousBenchId: 'bench-previous', regressions: world.regressions }),
}), (t) => t.client.workflow.execute<typeof benchmark>('benchmark', { taskQueue: t.taskQueue, workflowId: 'bench-warm-up', args: [spec({ tasks: [] })] }));

function spec(overrides: Partial<BenchSpec>): BenchSpec {
  return { tasks: ['taskA'], models: ['m1'], seeds: 1, maxSteps: 5, concurrency: 1, noise: {}, ...overrides };
}

async function runBenchmark(benchId: string, s: BenchSpec) {
  const handle = await t.client.workflow.start<typeof benchmark>('benchmark', { taskQueue: t.taskQueue, workflowId: benchId, args: [s] });
  return { handle, result: await handle.result() };
}

/** The budget each child run's agent was given (its first turn), by run id. */
function budgets(): Record<string, number | undefined> {
  return Object.fromEntries(t.stubs.argsOf('agentTurn').filter((a) => a.step === 0).map((a) => [a.runId, a.budgetUsd]));
}

describe('benchmark on the time-skipping server', () => {
  it('fans out task × model × seed within the concurrency limit (3), reuses a finished run, records a failing one and flags regressions', async () => {
    const benchId = 'bench-fanout';
    const id = (task: string, model: string, seed: number) => `${benchId}-${task}-${model}-s${seed}`;
    const regression: Regression = { task: 'taskB', model: 'm2', metric: 'Score', direction: 'max', previous: 120, current: 100, band: 1 };
    resetWorld({ finished: new Map([[id('taskA', 'm1', 1), 0.5]]), failing: new Set([id('taskB', 'm2', 0)]), regressions: [regression], limit: 3, newRuns: 7 });
    t.stubs.use();
    const s = spec({ suite: 'nightly', tasks: ['taskA', 'taskB'], models: ['m1', 'm2'], seeds: 2, concurrency: 3, budgetUsd: 2, noise: { taskA: 0.5 }, data: 'fixture' });
    const { handle, result } = await runBenchmark(benchId, s);

    const jobs = ['taskA', 'taskB'].flatMap((task) => ['m1', 'm2'].flatMap((model) => [0, 1].map((seed) => ({ task, model, seed, runId: id(task, model, seed) }))));
    // Every job looked up first; the reused one is not run again; never more than 3 runs at once, and 3 at some point.
    expect(t.stubs.argsOf('finishedRun').sort()).toEqual(jobs.map((j) => j.runId).sort());
    const provisioned = t.stubs.argsOf('provision').map((a) => a.runId);
    expect(provisioned.sort()).toEqual(jobs.map((j) => j.runId).filter((r) => r !== id('taskA', 'm1', 1)).sort());
    expect(world.maxInFlight).toBe(3);
    expect(world.inFlight).toBe(0);
    // Each child got the task, model, data and the per-run budget; the failing one was torn down too.
    expect(t.stubs.argsOf('provision').every((a) => a.data === 'fixture')).toBe(true);
    expect(Object.values(budgets())).toEqual(Array(7).fill(2));
    expect(t.stubs.of('teardown')).toHaveLength(7);

    const [runs, data] = t.stubs.of('scoreBenchmark')[0]!.args;
    expect(data).toBe('fixture');
    expect(runs).toEqual(
      jobs.map(({ task, model, seed, runId }) => {
        if (runId === id('taskA', 'm1', 1)) return { task, model, seed, runId, reused: true, status: 'completed', exitStatus: 'submitted', attempts: [{ kind: 'submit', metrics: { Score: 42 } }] };
        if (runId === id('taskB', 'm2', 0)) return { task, model, seed, runId, reused: false, status: 'failed', exitStatus: 'exit_error', attempts: [], error: `unknown model for ${runId}` };
        return { task, model, seed, runId, reused: false, status: 'completed', exitStatus: 'submitted', attempts: [{ kind: 'submit', metrics: { Score: 100 } }] };
      }),
    );
    expect(t.stubs.argsOf('compareWithPrevious')).toEqual([{ suite: 'nightly', scores: result.scores, noise: { taskA: 0.5 } }]);
    expect(result).toMatchObject({ benchId, suite: 'nightly', previousBenchId: 'bench-previous', regressions: [regression] });
    expect(result.runs).toHaveLength(8);

    const sa = (await handle.describe()).typedSearchAttributes;
    expect(sa.get(MlgymRegression)).toBe(true);
    expect(sa.get(MlgymBenchId)).toBe(benchId);
    expect(sa.get(MlgymSuite)).toBe('nightly');
    const child = await t.client.workflow.getHandle(id('taskB', 'm1', 1)).describe();
    expect(child.typedSearchAttributes.get(MlgymTask)).toBe('taskB');
    expect(child.typedSearchAttributes.get(MlgymModel)).toBe('m1');
    expect(child.typedSearchAttributes.get(MlgymBenchId)).toBe(benchId);
    expect(child.typedSearchAttributes.get(MlgymStatus)).toBe('completed');
    expect(child.status.name).toBe('COMPLETED');
    expect((await t.client.workflow.getHandle(id('taskB', 'm2', 0)).describe()).status.name).toBe('FAILED');
  });

  it("under MLGym's protocol every child run gets it, the comparison looks only at benchmarks of it, and the result records it", async () => {
    const benchId = 'bench-protocol';
    resetWorld({ limit: 1, newRuns: 2 });
    t.stubs.use();
    const { result } = await runBenchmark(benchId, spec({ suite: 'paper', seeds: 2, protocol: 'mlgym' }));
    expect(t.stubs.argsOf('provision').map((a) => a.protocol)).toEqual(['mlgym', 'mlgym']);
    expect(t.stubs.argsOf('submit').map((a) => a.protocol)).toEqual(['mlgym', 'mlgym']);
    expect(t.stubs.argsOf('compareWithPrevious')).toMatchObject([{ suite: 'paper', protocol: 'mlgym' }]);
    expect(result.protocol).toBe('mlgym');

    resetWorld({ limit: 1, newRuns: 1 });
    t.stubs.use();
    const { result: ours } = await runBenchmark('bench-protocol-ours', spec({}));
    expect(t.stubs.argsOf('provision')[0]!.protocol).toBeUndefined();
    expect(ours.protocol).toBe('ours');
  });

  it('splits totalBudgetUsd among the runs, giving back what a finished run did not spend', async () => {
    const benchId = 'bench-pool';
    const id = (seed: number) => `${benchId}-taskA-m1-s${seed}`;
    resetWorld({ finished: new Map([[id(0), 0.5]]), failing: new Set([id(2)]), limit: 1, newRuns: 3 });
    t.stubs.use();
    const { handle, result } = await runBenchmark(benchId, spec({ seeds: 4, totalBudgetUsd: 4 }));

    expect(t.stubs.argsOf('provision').map((a) => a.runId)).toEqual([id(1), id(2), id(3)]);
    expect(world.maxInFlight).toBe(1);
    // s0 was reused having spent $0.50: s1 gets a third of the $3.50 left; s1 spends $0.25 and gives the
    // rest back; s2 fails, so its allowance stays spent (its spend is unknown); s3 gets all that remains.
    const b = budgets();
    expect(Object.keys(b)).toEqual([id(1), id(2), id(3)]);
    expect(b[id(1)]).toBeCloseTo(3.5 / 3, 10);
    expect(b[id(2)]).toBeCloseTo((4 - 0.5 - RUN_COST) / 2, 10);
    expect(b[id(3)]).toBeCloseTo(4 - 0.5 - RUN_COST - (4 - 0.5 - RUN_COST) / 2, 10);
    expect(0.5 + RUN_COST + b[id(2)]! + b[id(3)]!).toBeCloseTo(4, 10);

    expect(result.runs.map((r) => [r.seed, r.reused, r.status])).toEqual([
      [0, true, 'completed'],
      [1, false, 'completed'],
      [2, false, 'failed'],
      [3, false, 'completed'],
    ]);
    // Not a suite: no comparison, no regression.
    expect(t.stubs.of('compareWithPrevious')).toHaveLength(0);
    expect(result).toMatchObject({ suite: null, previousBenchId: null, regressions: [] });
    const sa = (await handle.describe()).typedSearchAttributes;
    expect(sa.get(MlgymRegression)).toBe(false);
    expect(sa.get(MlgymSuite)).toBeUndefined();
  });
});
