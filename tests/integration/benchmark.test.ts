import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchmarkSchedule } from '../../lib/bench/schedule.js';
import type { BenchmarkResult, BenchSpec } from '../../lib/bench/types.js';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, repoRoot, taskFile } from '../../lib/home.js';
import { docker, labels } from '../../lib/sandbox/docker.js';
import type { ScoresInput } from '../../lib/scoring/input.js';
import { computeVariantProfiles } from '../../lib/scoring/profiles.js';
import { MlgymBenchId, MlgymRegression, MlgymSuite } from '../../lib/temporal/searchAttributes.js';
import { waitFor } from '../helpers/poll.js';
import { useTestTemporal, type TestTemporal } from '../helpers/temporal.js';
import { evaluateOnHost } from '../helpers/hostEvaluation.js';

const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;
const task = loadTask(taskFile('quickDilemma'), datasetsDir);
const baselineScore = task.baseline_scores[0]!.Score!;
const noise = task.baseline_noise.Score!;

function spec(overrides: Partial<BenchSpec> = {}): BenchSpec {
  return { tasks: ['quickDilemma'], models: ['baseline'], seeds: 1, maxSteps: 10, concurrency: 2, noise: {}, ...overrides };
}

/**
 * The test-split score of `strategy` as strategy.py, computed on the host as the grader runs the task's
 * evaluate.py (cwd the task folder, the runtime helpers on PYTHONPATH); null when the evaluation rejects it.
 */
function hostScore(taskId: string, strategy: string): number | null {
  const run = evaluateOnHost(taskId, { 'strategy.py': strategy }, 'test');
  if (run.exitCode === 1) {
    expect(run.output.error).toEqual(expect.any(String));
    return null;
  }
  expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  return run.output.Score as number;
}

/** Run a benchmark to its end on a worker of its own, on `taskQueue`. */
async function runBenchmark(t: Omit<TestTemporal, 'close'>, taskQueue: string, benchId: string, s: BenchSpec): Promise<BenchmarkResult> {
  const worker = await t.worker(taskQueue);
  return worker.runUntil(async () => (await t.client.workflow.start('benchmark', { taskQueue, workflowId: benchId, args: [s] })).result());
}

describe('benchmark workflow through the real server, worker and Docker', () => {
  const t = useTestTemporal();
  const priorityOf = async (runId: string) => {
    const priority = (await t.client.workflow.getHandle(runId).describe()).raw.workflowExecutionInfo?.priority;
    return { priorityKey: priority?.priorityKey, fairnessKey: priority?.fairnessKey };
  };

  it('runs quickDilemma × baseline × 2 seeds as child runs with AUP, and a re-run reuses them', async () => {
    const queue = unique('bench');
    const benchId = unique('bench-test');
    const first = await runBenchmark(t, queue, benchId, spec({ seeds: 2 }));

    expect(first.benchId).toBe(benchId);
    expect(first.runs.map((r) => [r.runId, r.seed, r.status, r.exitStatus, r.reused])).toEqual([
      [`${benchId}-quickDilemma-baseline-s0`, 0, 'completed', 'submitted', false],
      [`${benchId}-quickDilemma-baseline-s1`, 1, 'completed', 'submitted', false],
    ]);
    for (const run of first.runs) expect(Math.abs(run.submission! - baselineScore)).toBeLessThanOrEqual(3 * noise);
    expect(first.scores).toEqual([{ task: 'quickDilemma', model: 'baseline', metric: 'Score', direction: 'max', bestAttempt: expect.any(Number), bestSubmission: first.runs[0]!.submission }]);
    expect(Object.keys(first.aup.bestSubmission).sort()).toEqual(['baseline', 'baseline-agent']);
    expect(first.aup.bestSubmission['baseline-agent']).toBeGreaterThan(0);
    expect(first.aup.bestAttempt['baseline-agent']).toBeGreaterThan(0);
    expect(first.regressions).toEqual([]);
    // Its runs yield to interactive runs (priority 2) and share the queue fairly with other benchmarks.
    for (const run of first.runs) expect(await priorityOf(run.runId)).toEqual({ priorityKey: 3, fairnessKey: benchId });

    // The same benchId again, through the CLI: nothing is re-run. On a queue no worker has polled, so the CLI
    // hosts its own worker (the test's worker on `queue` just stopped, and the server remembers a stopped
    // poller for a while: the CLI would take it for a live worker and leave the benchmark to it).
    const cli = spawnSync('node', [join(repoRoot, 'bin/mlgym.js'), 'bench', '--tasks', 'quickDilemma', '--models', 'baseline', '--seeds', '2', '--bench-id', benchId, '--json'], {
      encoding: 'utf8',
      cwd: repoRoot,
      env: { ...process.env, MLGYM_TASK_QUEUE: unique('bench-cli') },
    });
    expect(cli.status, cli.stderr).toBe(0);
    const again = JSON.parse(cli.stdout) as BenchmarkResult;
    expect(again.runs.map((r) => [r.runId, r.status, r.reused])).toEqual(first.runs.map((r) => [r.runId, r.status, true]));
    expect(again.runs.map((r) => r.submission)).toEqual(first.runs.map((r) => r.submission));
    expect(again.aup).toEqual(first.aup);

    const history = await t.client.workflow.getHandle(benchId).fetchHistory();
    expect(history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toHaveLength(0);
    const childRuns = await waitFor(async () => {
      const { count } = await t.client.workflow.count(`WorkflowType = 'agentRun' AND MlgymBenchId = '${benchId}'`);
      return count >= 2 ? count : undefined;
    }, "the benchmark's two runs in the visibility store");
    expect(childRuns).toBe(2);
    const benchRuns = await waitFor(async () => {
      const { count } = await t.client.workflow.count(`WorkflowType = 'benchmark' AND MlgymBenchId = '${benchId}'`);
      return count >= 2 ? count : undefined;
    }, 'both benchmark executions in the visibility store');
    expect(benchRuns).toBe(2);
  });

  it('records a failing run without failing the benchmark, and runs it again when the benchmark is re-run', async () => {
    const queue = unique('bench-fail');
    const benchId = unique('bench-fail');
    const broken = join(mkdtempSync(join(tmpdir(), 'mlgym-replay-')), 'broken.yaml');
    writeFileSync(broken, 'not: a list of actions\n');
    const s = spec({ models: ['baseline', `replay:${broken}`] });
    const failedRunId = `${benchId}-quickDilemma-replay_broken.yaml-s0`;
    try {
      const first = await runBenchmark(t, queue, benchId, s);
      expect(first.runs.map((r) => [r.model, r.status, r.exitStatus])).toEqual([
        ['baseline', 'completed', 'submitted'],
        [`replay:${broken}`, 'failed', 'exit_error'],
      ]);
      expect(first.runs[1]).toMatchObject({ runId: failedRunId, submission: null, error: expect.stringContaining('expected a list of actions') });
      expect(Object.keys(first.aup.bestSubmission)).toContain(`replay:${broken}`);

      const again = await runBenchmark(t, queue, benchId, s);
      expect(again.runs.map((r) => [r.status, r.reused])).toEqual([
        ['completed', true],
        ['failed', false],
      ]);
      const tries = await waitFor(async () => {
        const { count } = await t.client.workflow.count(`WorkflowId = '${failedRunId}'`);
        return count >= 2 ? count : undefined;
      }, "both executions of the failed run in the visibility store");
      expect(tries).toBe(2);
    } finally {
      // A failed run tears its container down too.
      expect(await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${failedRunId}`] } })).toHaveLength(0);
    }
  });

  it('a schedule triggered through the client starts a benchmark of its suite', async () => {
    const queue = unique('bench-schedule');
    const suite = unique('scheduled');
    const worker = await t.worker(queue);
    const schedule = await t.client.schedule.create(benchmarkSchedule({ ...spec(), suite }, { cron: '0 0 1 1 *' }, { taskQueue: queue }));
    try {
      const result = (await worker.runUntil(async () => {
        await schedule.trigger();
        const workflowId = await waitFor(async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId, "the schedule's first action");
        return t.client.workflow.getHandle(workflowId).result();
      })) as BenchmarkResult;

      expect(result.suite).toBe(suite);
      expect(result.benchId.startsWith(`bench-${suite}-`)).toBe(true);
      expect(result.runs).toHaveLength(1);
      expect(result.runs[0]!.status).toBe('completed');
      expect(result.previousBenchId).toBeNull();
      const { typedSearchAttributes } = await t.client.workflow.getHandle(result.benchId).describe();
      expect(typedSearchAttributes.get(MlgymSuite)).toBe(suite);
      expect(typedSearchAttributes.get(MlgymBenchId)).toBe(result.benchId);
      // A scheduled suite's runs come after every other benchmark's.
      expect(await priorityOf(result.runs[0]!.runId)).toEqual({ priorityKey: 4, fairnessKey: result.benchId });
    } finally {
      await schedule.delete();
    }
  });

  it('flags a task × model whose submission got worse than in the suite’s previous benchmark', async () => {
    const queue = unique('bench-regress');
    const suite = unique('regress');
    const agent = join(mkdtempSync(join(tmpdir(), 'mlgym-replay-')), 'agent.yaml');
    const s = spec({ suite, models: [`replay:${agent}`] });

    // First the starter strategy (the baseline, tit-for-tat), then one that always defects: a worse score
    // against this opponent, which mostly copies the row player's last move (1.288 against 1.862).
    writeFileSync(agent, JSON.stringify(['submit']));
    const before = await runBenchmark(t, queue, `${suite}-1`, s);
    writeFileSync(agent, JSON.stringify(["printf 'def row_strategy(history):\\n    return 1\\n' > strategy.py", 'submit']));
    const after = await runBenchmark(t, queue, `${suite}-2`, s);

    expect(before.previousBenchId).toBeNull();
    expect(before.regressions).toEqual([]);
    const previous = before.scores[0]!.bestSubmission!;
    expect(Math.abs(previous - baselineScore)).toBeLessThanOrEqual(3 * noise);
    expect(after.previousBenchId).toBe(`${suite}-1`);
    expect(after.regressions).toEqual([
      { task: 'quickDilemma', model: `replay:${agent}`, metric: 'Score', direction: 'max', previous, current: after.scores[0]!.bestSubmission, band: 3 * noise },
    ]);
    expect(after.regressions[0]!.current!).toBeLessThan(previous - 3 * noise);

    const flag = async (id: string) => (await t.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(MlgymRegression);
    expect(await flag(`${suite}-1`)).toBe(false);
    expect(await flag(`${suite}-2`)).toBe(true);
  });

  it("compares a suite's benchmark only with a previous one under the same protocol", async () => {
    const queue = unique('bench-protocol');
    const suite = unique('protocol');
    const s = spec({ suite });
    await runBenchmark(t, queue, `${suite}-1`, s);
    // Under MLGym's protocol validate showed the test score: not comparable with the benchmark before it.
    const paper = await runBenchmark(t, queue, `${suite}-2`, { ...s, protocol: 'mlgym' });
    expect(paper).toMatchObject({ protocol: 'mlgym', previousBenchId: null, regressions: [] });
    // The next one under ours skips it and compares with the last one under ours.
    const ours = await runBenchmark(t, queue, `${suite}-3`, s);
    expect(ours).toMatchObject({ protocol: 'ours', previousBenchId: `${suite}-1` });
  });

  it('a benchmark of 3 tasks × 2 replay agents through the real server with the expected AUP', async () => {
    const queue = unique('bench-aup');
    const benchId = unique('bench-aup');
    const tasks = ['quickDilemma', 'battleOfSexes', 'blotto'];
    const dir = mkdtempSync(join(tmpdir(), 'mlgym-replay-'));
    // The starter strategy is every one of these tasks' baseline (their baseline_command only imports it).
    const starter = `replay:${join(dir, 'starter.yaml')}`;
    writeFileSync(join(dir, 'starter.yaml'), JSON.stringify(['submit']));
    // Always 0: cooperate, or the preferred move; on blotto not an allocation, so the evaluation fails.
    const cooperateStrategy = 'def row_strategy(history):\n    return 0\n';
    const cooperate = `replay:${join(dir, 'cooperate.yaml')}`;
    writeFileSync(join(dir, 'cooperate.yaml'), JSON.stringify(["printf 'def row_strategy(history):\\n    return 0\\n' > strategy.py", 'submit']));

    // Expected scores, independently of Temporal and Docker: the evaluations are seeded, so exact. The
    // starter's is the task's recorded baseline (starterBaselines.test.ts reproduces the games' on the host).
    const baseline = (id: string) => loadTask(taskFile(id), datasetsDir).baseline_scores[0]!.Score!;
    const expected: Record<string, Record<string, number | null>> = Object.fromEntries(
      tasks.map((id) => [id, { [starter]: baseline(id), [cooperate]: hostScore(id, cooperateStrategy) }]),
    );
    expect(expected.blotto![cooperate]).toBeNull();

    const result = await runBenchmark(t, queue, benchId, spec({ tasks, models: [starter, cooperate], concurrency: 3 }));

    // A run whose submission scored nothing ends 'failed' (its workflow completes): the benchmark records it.
    expect(result.runs.map((r) => [r.task, r.model, r.seed, r.status, r.exitStatus, r.reused])).toEqual(
      tasks.flatMap((id) =>
        [starter, cooperate].map((model) => [id, model, 0, ...(expected[id]![model] === null ? ['failed', 'evaluation_format_error'] : ['completed', 'submitted']), false]),
      ),
    );
    for (const run of result.runs) expect(run.submission, run.runId).toBe(expected[run.task]![run.model]);

    // Both variants score the test split (a validation's recorded metrics are the test split's too).
    const input: ScoresInput = {
      tasks: Object.fromEntries(
        tasks.map((id) => {
          const recorded = loadTask(taskFile(id), datasetsDir);
          const { direction } = recorded.metrics.find((m) => m.name === recorded.primary_metric)!;
          return [id, { direction, baseline: recorded.baseline_scores[0]![recorded.primary_metric]!, scores: expected[id]! }];
        }),
      ),
    };
    const profiles = computeVariantProfiles({ bestAttempt: input, bestSubmission: input });
    expect(result.aup.tauMax).toBeCloseTo(profiles.tauMax, 9);
    for (const variant of ['bestAttempt', 'bestSubmission'] as const) {
      expect(Object.keys(result.aup[variant]).sort()).toEqual(Object.keys(profiles[variant].aup).sort());
      for (const [method, aup] of Object.entries(profiles[variant].aup)) expect(result.aup[variant][method], `${variant} ${method}`).toBeCloseTo(aup, 9);
    }

    const childRuns = await waitFor(async () => {
      const { count } = await t.client.workflow.count(`WorkflowType = 'agentRun' AND MlgymBenchId = '${benchId}'`);
      return count >= 6 ? count : undefined;
    }, "the benchmark's six runs in the visibility store");
    expect(childRuns).toBe(6);
  });
});
