// The benchmark workflow on the time-skipping test server: real child agentRuns against stub activities.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBenchRecords } from '../../activities/benchmark.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { BudgetPool } from '../../lib/bench/budget.js';
import { benchJobs, benchRunId } from '../../lib/bench/jobs.js';
import { readBenchRecords } from '../../lib/bench/records.js';
import type { BenchRun, BenchScores, BenchSpec, Comparison, Regression } from '../../lib/bench/types.js';
import type { Attempt, RunResult } from '../../lib/run/types.js';
import { MlgymBenchId, MlgymModel, MlgymRegression, MlgymStatus, MlgymSuite, MlgymTask } from '../../lib/temporal/searchAttributes.js';
import type { benchmark } from '../../workflows/benchmark.js';
import { useWorkflowTestEnv } from '../helpers/timeSkipping.js';
import { cachedWorkflowBundle } from '../../lib/temporal/workflowBundle.js';

/** The real artifact store in a folder of this file's: the benchmark's per-run records go there. */
const artifacts = mkdtempSync(join(tmpdir(), 'mlgym-bench-wf-'));
const store = new ArtifactStore(artifacts);
afterAll(() => rmSync(artifacts, { recursive: true, force: true }));
const records = makeBenchRecords({ store });

/** Stand-in scoring (the real one needs the tasks' configs): a run's score is its submission's. */
function stubScores(runs: BenchRun[]): BenchScores {
  return {
    runs: runs.map(({ attempts, ...run }) => ({ ...run, bestAttempt: null, submission: attempts.at(-1)?.metrics?.Score ?? null })),
    scores: [...new Set(runs.map((r) => `${r.task}/${r.model}`))].map((pair) => {
      const [task, model] = pair.split('/') as [string, string];
      return { task, model, metric: 'Score', direction: 'max' as const, bestAttempt: null, bestSubmission: 100 };
    }),
    aup: { tauMax: 1, bestAttempt: {}, bestSubmission: {} },
  };
}

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
  recordBenchRun: records.recordBenchRun,
  summarizeBenchmark: async ({ benchId, spec: s }) => stubScores(await readBenchRecords(store.objects, benchId, s)),
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

    // Each run's outcome is a record in the artifact store; the scores come from those records.
    expect(t.stubs.argsOf('summarizeBenchmark')).toEqual([{ benchId, spec: s }]);
    expect(t.stubs.of('scoreBenchmark')).toHaveLength(0);
    expect(await readBenchRecords(store.objects, benchId, s)).toEqual(
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
  it('continues as new every runsPerExecution runs, carrying the budget pool: each run gets what one pool for the whole benchmark would give it', async () => {
    const benchId = 'bench-pool-continued';
    const s = spec({ seeds: 12, totalBudgetUsd: 6, runsPerExecution: 5 });
    const id = (seed: number) => `${benchId}-taskA-m1-s${seed}`;
    // A reused run and a failing one in the second execution, a reused one in the last.
    resetWorld({ finished: new Map([[id(6), 0.5], [id(11), 0.75]]), failing: new Set([id(7)]), limit: 1, newRuns: 10 });
    t.stubs.use();
    const { result } = await runBenchmark(benchId, s);

    // Seeds 0-4, 5-9 and 10-11: three executions, each looking every one of its runs up and recording it.
    const executions = [...new Set(t.stubs.of('recordBenchRun').map((c) => c.workflowRunId))];
    expect(executions).toHaveLength(3);
    expect(t.stubs.of('recordBenchRun').map((c) => [executions.indexOf(c.workflowRunId), c.args[0].run.seed])).toEqual(Array.from({ length: 12 }, (_, seed) => [Math.floor(seed / 5), seed]));
    expect(t.stubs.argsOf('finishedRun')).toEqual(Array.from({ length: 12 }, (_, seed) => id(seed)));

    const expected = new BudgetPool(6, 12);
    const allowances: Record<string, number> = {};
    for (let seed = 0; seed < 12; seed++) {
      const spent = world.finished.get(id(seed));
      if (spent !== undefined) {
        expected.spentBefore(spent);
        continue;
      }
      const allowance = expected.reserve();
      allowances[id(seed)] = allowance;
      expected.settle(allowance, world.failing.has(id(seed)) ? undefined : RUN_COST);
    }
    const given = budgets();
    expect(Object.keys(given)).toEqual(Object.keys(allowances));
    for (const [runId, allowance] of Object.entries(allowances)) expect(given[runId], runId).toBeCloseTo(allowance, 10);
    expect(expected.state().committed).toBeLessThanOrEqual(6);

    expect(result.runs.map((r) => [r.seed, r.reused, r.status])).toEqual(Array.from({ length: 12 }, (_, seed) => [seed, world.finished.has(id(seed)), seed === 7 ? 'failed' : 'completed']));
    expect(result.runs.map((r) => r.submission)).toEqual(Array.from({ length: 12 }, (_, seed) => (seed === 7 ? null : world.finished.has(id(seed)) ? 42 : 100)));

    // Each execution's history (the patch marker, the records, the continue-as-new) replays against the code.
    const workflowBundle = await cachedWorkflowBundle();
    for (const runId of executions) {
      const history = await t.client.workflow.getHandle(benchId, runId).fetchHistory();
      await expect(Worker.runReplayHistory({ workflowBundle }, history, benchId)).resolves.toBeUndefined();
    }
  });

  it('runs 600 runs through several executions with bounded input, the concurrency limit held and each run started once', async () => {
    const benchId = 'bench-large';
    const s = spec({ suite: 'large', tasks: ['taskA', 'taskB'], models: ['m1', 'm2'], seeds: 150, concurrency: 20, runsPerExecution: 100, totalBudgetUsd: 300, budgetUsd: 1 });
    const jobs = benchJobs(s);
    const ids = jobs.map((job) => benchRunId(benchId, job));
    const reused = new Set([ids[0]!, ids[99]!, ids[100]!, ids[599]!]);
    const failing = new Set([ids[1]!, ids[250]!, ids[450]!]);
    resetWorld({ finished: new Map([...reused].map((runId) => [runId, 0.5])), failing, limit: 1, newRuns: ids.length - reused.size });
    t.stubs.use();
    const { handle, result } = await runBenchmark(benchId, s);

    // 600 runs at 100 per execution: 6 executions, each one's input the spec and two numbers of progress.
    const executions = [...new Set(t.stubs.of('recordBenchRun').map((c) => c.workflowRunId))];
    expect(executions).toHaveLength(6);
    const history = await handle.fetchHistory();
    const continued = history.events!.find((e) => e.workflowExecutionContinuedAsNewEventAttributes);
    expect(continued).toBeUndefined(); // the last execution's history: it ended, it did not continue
    expect((await handle.describe()).runId).toBe(executions.at(-1));
    const first = await t.client.workflow.getHandle(benchId, executions[0]).fetchHistory();
    const carried = first.events!.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)!.workflowExecutionContinuedAsNewEventAttributes!;
    expect(carried.input!.payloads).toHaveLength(2);
    expect(JSON.parse(Buffer.from(carried.input!.payloads![1]!.data!).toString('utf8'))).toEqual({ next: 100, pool: { committed: expect.any(Number), unstarted: 500 } });

    // Each new run provisioned once, never more than 20 at once; each run looked up and recorded once.
    const provisioned = t.stubs.argsOf('provision').map((a) => a.runId);
    expect(provisioned).toHaveLength(new Set(provisioned).size);
    expect(provisioned.sort()).toEqual(ids.filter((r) => !reused.has(r)).sort());
    expect(world.maxInFlight).toBeLessThanOrEqual(20);
    expect(world.inFlight).toBe(0);
    expect(t.stubs.argsOf('finishedRun').sort()).toEqual([...ids].sort());
    expect(t.stubs.argsOf('recordBenchRun').map((a) => a.run.runId).sort()).toEqual([...ids].sort());

    // The result, from the stored records, in job order with the right outcomes.
    expect(result.runs.map((r) => r.runId)).toEqual(ids);
    expect(result.runs.filter((r) => r.status === 'failed').map((r) => r.runId)).toEqual(ids.filter((r) => failing.has(r)));
    expect(result.runs.filter((r) => r.reused).map((r) => r.runId)).toEqual(ids.filter((r) => reused.has(r)));
    expect(result.runs.filter((r) => r.status === 'completed' && !r.reused).every((r) => r.submission === 100)).toBe(true);
    expect(result.scores.map((p) => `${p.task}/${p.model}`)).toEqual(['taskA/m1', 'taskA/m2', 'taskB/m1', 'taskB/m2']);
    expect(t.stubs.argsOf('compareWithPrevious')).toEqual([{ suite: 'large', scores: result.scores, noise: {} }]);

    // Budgets: each within the per-run cap; together (what the finished ones spent, the failed ones'
    // whole allowances) within the total; and the pool carried over: later executions' first runs get
    // more than an even split because the runs before gave back what they did not spend.
    const given = budgets();
    expect(Object.keys(given)).toHaveLength(ids.length - reused.size);
    expect(Object.values(given).every((b) => b! > 0 && b! <= 1)).toBe(true);
    const committed = reused.size * 0.5 + [...failing].reduce((sum, r) => sum + given[r]!, 0) + (ids.length - reused.size - failing.size) * RUN_COST;
    expect(committed).toBeLessThanOrEqual(300);
    expect(given[ids[101]!]!).toBeGreaterThan(300 / 600);
    const sa = (await handle.describe()).typedSearchAttributes;
    expect(sa.get(MlgymBenchId)).toBe(benchId);
    expect(sa.get(MlgymSuite)).toBe('large');
  }, 600_000);
});
