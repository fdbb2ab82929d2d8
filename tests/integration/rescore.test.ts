import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import type { BenchmarkResult, BenchSpec } from '../../lib/bench/types.js';
import { rescoreRecordName, type RescoreResult, type RunRescore } from '../../lib/rescore/types.js';
import { readTrajectory, recordName } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { taskQueueFor } from '../../lib/temporal/client.js';
import { MlgymRescoreOf } from '../../lib/temporal/searchAttributes.js';
import { mlgym } from '../helpers/cli.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import { runInput, startRun } from '../helpers/runs.js';
import { fixtureTasksDir } from '../helpers/sandbox.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { useExclusively } from '../helpers/exclusive.js';

useExclusively('default-queue');

const fenced = (command: string) => ({ reply: `Next.\n\`\`\`\n${command}\n\`\`\`` });
/** The task's answers are labels 1, 0: the validated file scores 0.5, the submitted one 1.0. */
const VALIDATED = "printf 'id,label\\n0,1\\n1,1\\n' > submission.csv";
const SUBMITTED = "printf 'id,label\\n0,1\\n1,0\\n' > submission.csv";
/**
 * The fixed evaluation: on the test split the share of labels that are 1 (validated file 1.0, submitted 0.5);
 * on the validation split half that, so which split a validate shows can be told apart.
 */
const NEW_EVALUATION = `import csv, json, os
with open(os.path.join(os.environ["MLGYM_WORKSPACE"], "submission.csv")) as f:
    labels = [r["label"] for r in csv.DictReader(f)]
share = sum(l == "1" for l in labels) / len(labels)
print(json.dumps({"accuracy": share if os.environ["MLGYM_SPLIT"] == "test" else share / 2}))
`;

describe('mlgym rescore', () => {
  const t = useTestTemporal();
  const store = new ArtifactStore();
  let fake: FakeOpenAI;
  let tasksDir: string;
  let run: RunResult;
  beforeAll(async () => {
    tasksDir = mkdtempSync(join(tmpdir(), 'mlgym-rescore-tasks-'));
    cpSync(join(fixtureTasksDir, 'sandboxProbe'), join(tasksDir, 'sandboxProbe'), { recursive: true });
    process.env.MLGYM_TASKS_PATH = tasksDir;
    process.env.OPENAI_API_KEY = 'sk-fake';
    fake = await startFakeOpenAI([fenced(VALIDATED), fenced('validate'), fenced(SUBMITTED), fenced('submit')]);
    process.env.OPENAI_BASE_URL = fake.baseURL;
    const worker = await t.worker('rescore-run');
    run = (await worker.runUntil(startRun(t.client, 'rescore-run', runInput('sandboxProbe', 'openai:fake-rescore', { maxSteps: 6, budgetUsd: 1 })).then((h) => h.result()))) as RunResult;
  });
  afterAll(async () => fake?.close());

  /** The CLI without a worker of its own: a worker of this file serves the shared queue while the command waits. */
  async function cli(...args: string[]) {
    const worker = await t.worker(taskQueueFor(0));
    return worker.runUntil(mlgym({}, ...args, '--no-worker'));
  }

  it("grades the run's workspaces again with the changed evaluation, with no model call and no agent command", async () => {
    expect(run.attempts.map((a) => [a.kind, a.metrics?.accuracy])).toEqual([
      ['validate', 0.5],
      ['submit', 1],
    ]);
    const calls = fake.calls;
    const steps = await readTrajectory(store, run.runId);
    writeFileSync(join(tasksDir, 'sandboxProbe', 'evaluate.py'), NEW_EVALUATION);

    const out = await cli('rescore', run.runId, '--all', '--json');
    expect(out.status, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as RescoreResult & { workflowId: string };
    const rescored = result.runs[0]!;
    expect(rescored.attempts.map((a) => [a.kind, a.step, a.metrics?.accuracy])).toEqual([
      ['validate', 1, 1],
      ['submit', 3, 0.5],
    ]);
    expect(rescored.submission?.metrics?.accuracy).toBe(0.5);
    expect(rescored.previousSubmission?.metrics?.accuracy).toBe(1);
    expect(rescored.evaluatorVersion).toMatch(/^sha256:[0-9a-f]{16}$/);

    // Recorded beside the run's own scores, which stay as they were.
    expect(await store.readJson<RunRescore>(run.runId, rescoreRecordName(rescored.evaluatorVersion, { all: true }))).toEqual(rescored);
    expect((await store.readJson<RunResult>(run.runId, recordName.result))!.submission?.metrics?.accuracy).toBe(1);

    // No model call, no agent step: the workflow ran only `regrade`, and the run's trajectory is unchanged.
    expect(fake.calls).toBe(calls);
    expect(await readTrajectory(store, run.runId)).toEqual(steps);
    const history = await t.client.workflow.getHandle(result.workflowId).fetchHistory();
    const activities = history.events!.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name] : []));
    expect(activities).toEqual(['regrade']);
    expect((await t.client.workflow.getHandle(result.workflowId).describe()).typedSearchAttributes.get(MlgymRescoreOf)).toBe(run.runId);

    // The same evaluation again: the recorded rescore, not a second grading.
    const again = await cli('rescore', run.runId, '--all', '--json');
    expect((JSON.parse(again.stdout) as RescoreResult).runs[0]).toEqual(rescored);

    // The run's own protocol (ours): its validate showed the validation split. Under MLGym's, the test score;
    // recorded apart, and the test-split scores are the same.
    expect(rescored.attempts[0]!.shownMetrics?.accuracy).toBe(0.5);
    const paper = await cli('rescore', run.runId, '--all', '--protocol', 'mlgym', '--json');
    expect(paper.status, paper.stderr).toBe(0);
    const underMlgym = (JSON.parse(paper.stdout) as RescoreResult).runs[0]!;
    expect(underMlgym.attempts.map((a) => [a.kind, a.metrics?.accuracy, a.shownMetrics?.accuracy])).toEqual([
      ['validate', 1, 1],
      ['submit', 0.5, 0.5],
    ]);
    expect(await store.readJson<RunRescore>(run.runId, rescoreRecordName(rescored.evaluatorVersion, { all: true, protocol: 'mlgym' }))).toEqual(underMlgym);
    expect(fake.calls).toBe(calls);

    const badProtocol = await mlgym({}, 'rescore', run.runId, '--protocol', 'paper', '--no-worker');
    expect(badProtocol.status).toBe(2);
    expect(badProtocol.stderr).toMatch(/--protocol expects "ours" or "mlgym", got "paper"/);
  });

  it("rescores a benchmark's runs and recomputes its scores and AUP", async () => {
    const taskDir = join(tasksDir, 'sandboxProbe');
    appendFileSync(join(taskDir, 'task.yaml'), 'baseline_scores: [{ accuracy: 0.5 }]\n');
    writeFileSync(join(taskDir, 'evaluate.py'), NEW_EVALUATION);
    const replay = join(tasksDir, 'submit.yaml');
    writeFileSync(replay, `- ${JSON.stringify(SUBMITTED)}\n- submit\n`);
    const spec: BenchSpec = { tasks: ['sandboxProbe'], models: [`replay:${replay}`], seeds: 1, maxSteps: 4, concurrency: 1, noise: {} };
    const benchId = `bench-rescore-${Date.now().toString(36)}`;
    const worker = await t.worker('rescore-bench');
    const bench = (await worker.runUntil(async () => (await t.client.workflow.start('benchmark', { taskQueue: 'rescore-bench', workflowId: benchId, args: [spec] })).result())) as BenchmarkResult;
    expect(bench.scores.map((s) => s.bestSubmission)).toEqual([0.5]); // the share of 1s

    // The evaluation goes back to accuracy, which scores the same file 1.0.
    cpSync(join(fixtureTasksDir, 'sandboxProbe', 'evaluate.py'), join(taskDir, 'evaluate.py'));
    const out = await cli('rescore', benchId, '--json');
    expect(out.status, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as RescoreResult;
    expect(result.runs.map((r) => [r.runId, r.submission?.metrics?.accuracy, r.previousSubmission?.metrics?.accuracy])).toEqual([[bench.runs[0]!.runId, 1, 0.5]]);
    expect(result.scores?.scores.map((s) => s.bestSubmission)).toEqual([1]);
    const model = `replay:${replay}`;
    expect(result.scores?.aup.bestSubmission[model]).toBeGreaterThan(bench.aup.bestSubmission[model]!);
  });

  it('refuses an unknown run with exit 2', async () => {
    expect((await mlgym({}, 'rescore', 'run-nope-123', '--no-worker')).status).toBe(2);
  });
});
