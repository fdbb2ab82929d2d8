import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { forkRecordName, type ForkChild, type ForkOrigin } from '../../lib/fork/records.js';
import { readRunRecords } from '../../lib/report/records.js';
import { runFromRecords } from '../../lib/report/run.js';
import { readTrajectory } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { snapshotSteps } from '../../lib/snapshots/manifest.js';
import { snapshotStore } from '../../lib/snapshots/store.js';
import { taskQueueFor } from '../../lib/temporal/client.js';
import { statusQuery } from '../../workflows/messages.js';
import { MlgymForkStep, MlgymParentRun } from '../../lib/temporal/searchAttributes.js';
import { mlgym } from '../helpers/cli.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import { runInput, startRun } from '../helpers/runs.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { useExclusively } from '../helpers/exclusive.js';

useExclusively('default-queue');

/** The parent's commands: each step writes a file, step 3 also appends to step 1's, steps 4 and 5 change what the fork must not see. */
const PARENT = ['echo zero > f0.txt', 'echo one > f1.txt', 'echo two > f2.txt', 'echo three > f3.txt && echo one-again >> f1.txt', 'rm f0.txt', 'echo five > f5.txt'];
/** What the workspace holds after steps 0..3: file name → content. */
const AFTER_STEP_3: Record<string, string> = { 'f0.txt': 'zero\n', 'f1.txt': 'one\none-again\n', 'f2.txt': 'two\n', 'f3.txt': 'three\n', 'starter.py': 'print("starter")\n' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Every file of the workspace but the task's data, with its checksum, sorted. */
const CHECKSUMS = 'find . -path ./data -prune -o -type f -printf "%P\\n" | sort | xargs sha256sum';

describe('mlgym fork', () => {
  const t = useTestTemporal();
  const store = new ArtifactStore();
  let fake: FakeOpenAI;
  let parent: RunResult;
  beforeAll(async () => {
    process.env.OPENAI_API_KEY = 'sk-fake';
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-fork-')), 'parent.yaml');
    writeFileSync(replay, PARENT.map((c) => `- ${JSON.stringify(c)}`).join('\n') + '\n');
    // continue-as-new every 3 steps: snapshots at steps 3 and 6, so a fork after step 3 restores the one at 3 and re-runs step 3.
    const input = runInput('sandboxProbe', `replay:${replay}`, { maxSteps: 7, continueEvery: 3 });
    const worker = await t.worker('fork-parent');
    parent = (await worker.runUntil(startRun(t.client, 'fork-parent', input).then((h) => h.result()))) as RunResult;
  });
  afterAll(async () => fake?.close());

  /** The CLI without a worker of its own: this file's worker serves the shared queue while the command waits. */
  async function cli(env: Record<string, string>, ...args: string[]) {
    const worker = await t.worker(taskQueueFor(0));
    return worker.runUntil(mlgym(env, ...args, '--no-worker'));
  }

  it('starts a run with the parent workspace after step 3 and its first 4 steps, asks the model only for its own steps', async () => {
    expect(parent.steps).toBe(7);
    expect(await snapshotSteps(snapshotStore(store), parent.runId)).toEqual(expect.arrayContaining([3, 6]));
    fake = await startFakeOpenAI([
      { reply: `Check what is here.\n\`\`\`\n${CHECKSUMS}\n\`\`\`` },
      { reply: 'Try my own idea.\n```\necho fork > mine.txt\n```' },
      { reply: 'Done.\n```\nsubmit\n```' },
    ]);
    const out = await cli({ OPENAI_BASE_URL: fake.baseURL }, 'fork', parent.runId, '--at-step', '3', '--model', 'openai:fake-fork', '--budget-usd', '1', '--hint', 'think about f5', '--json');
    expect(out.status, out.stderr).toBe(1); // submitted without a submission.csv: the run's score is an error, as for the parent
    const summary = JSON.parse(out.stdout) as { runId: string; steps: number; parentRunId: string; forkedAtStep: number };
    const forkId = summary.runId;
    expect(summary).toMatchObject({ parentRunId: parent.runId, forkedAtStep: 3, steps: 7 });

    // The model was asked only for steps 4..6, and its first prompt carries the parent's conversation and the hint.
    expect(fake.calls).toBe(3);
    const first = JSON.stringify(fake.requests[0]!.messages);
    for (const command of PARENT.slice(0, 4)) expect(first).toContain(JSON.stringify(command).slice(1, -1));
    expect(first).not.toContain('rm f0.txt');
    expect(JSON.stringify(fake.requests[0]!.messages.at(-1))).toContain('think about f5');

    // Its first 4 steps are the parent's, then its own path.
    const [parentSteps, forkSteps] = await Promise.all([readTrajectory(store, parent.runId), readTrajectory(store, forkId)]);
    expect(forkSteps.slice(0, 4)).toEqual(parentSteps.slice(0, 4));
    expect(forkSteps.slice(4).map((s) => s.action)).toEqual([CHECKSUMS, 'echo fork > mine.txt', 'submit']);

    // Its workspace at its first own step held exactly the files of steps 0..3.
    const expected = Object.entries(AFTER_STEP_3).map(([name, content]) => `${sha256(content)}  ${name}`);
    expect(forkSteps[4]!.observation.trim().split('\n')).toEqual(expected);

    // Linked both ways, in the Web UI's search attributes too.
    const origin = await store.readJson<ForkOrigin>(forkId, forkRecordName.origin);
    expect(origin).toMatchObject({ parentRunId: parent.runId, atStep: 3, snapshot: 3 });
    expect(origin!.replayed.map((r) => [r.step, r.exitCode])).toEqual([[3, 0]]);
    expect(await store.readJson<ForkChild>(parent.runId, forkRecordName.child(forkId))).toMatchObject({ forkId, atStep: 3 });
    const attributes = (await t.client.workflow.getHandle(forkId).describe()).typedSearchAttributes;
    expect(attributes.get(MlgymParentRun)).toBe(parent.runId);
    expect(attributes.get(MlgymForkStep)).toBe(3);

    // A fork of the fork, after its step 5: the workspace holds the fork's mine.txt and not the parent's f5.txt.
    fake.close();
    fake = await startFakeOpenAI([{ reply: `Look.\n\`\`\`\n${CHECKSUMS}\n\`\`\`` }]);
    const again = await cli({ OPENAI_BASE_URL: fake.baseURL }, 'fork', forkId, '--at-step', '5', '--json');
    const second = JSON.parse(again.stdout) as { runId: string };
    const secondSteps = await readTrajectory(store, second.runId);
    expect(secondSteps.slice(0, 6)).toEqual(forkSteps.slice(0, 6));
    expect(fake.calls).toBe(1); // step 6, the last of its 7
    const files = secondSteps[6]!.observation.trim().split('\n').map((l) => l.split(/\s+/)[1]);
    expect(files).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'mine.txt', 'starter.py']);
    // The fork's submit at step 6 snapshotted the workspace it graded: the second fork restores it and re-runs nothing.
    expect(await store.readJson<ForkOrigin>(second.runId, forkRecordName.origin)).toMatchObject({ parentRunId: forkId, atStep: 5, snapshot: 6, replayed: [] });

    // The report shows the family: the fork's parent and where it diverged, and its own fork.
    const family = async (id: string) => runFromRecords(await readRunRecords(store, id), store.where(id)).family;
    expect(await family(forkId)).toEqual({ parent: { runId: parent.runId, atStep: 3 }, forks: [{ runId: second.runId, atStep: 5, model: 'openai:fake-fork' }] });
    expect((await family(parent.runId))?.forks).toEqual([{ runId: forkId, atStep: 3, model: 'openai:fake-fork' }]);
  });

  it('forks a run that is still going, from the steps it has finished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlgym-fork-running-'));
    writeFileSync(join(dir, 'slow.yaml'), Array.from({ length: 12 }, (_, i) => `- ${JSON.stringify(`sleep 3; echo ${i} > g${i}.txt`)}`).join('\n') + '\n');
    writeFileSync(join(dir, 'fork.yaml'), ['true', 'true', 'true', CHECKSUMS, 'submit'].map((c) => `- ${JSON.stringify(c)}`).join('\n') + '\n');
    const input = runInput('sandboxProbe', `replay:${join(dir, 'slow.yaml')}`, { maxSteps: 12 });
    const worker = await t.worker('fork-running');
    const handle = await startRun(t.client, 'fork-running', input);
    await worker.runUntil(async () => {
      while ((await handle.query(statusQuery)).step < 3) await new Promise((r) => setTimeout(r, 200));
      const out = await cli({}, 'fork', input.runId, '--at-step', '2', '--model', `replay:${join(dir, 'fork.yaml')}`, '--json');
      const fork = JSON.parse(out.stdout) as { runId: string };
      const steps = await readTrajectory(store, fork.runId);
      expect(steps[3]!.observation.trim().split('\n').map((l) => l.split(/\s+/)[1])).toEqual(['g0.txt', 'g1.txt', 'g2.txt', 'starter.py']);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.cancel();
      await handle.result().catch(() => undefined); // its teardown runs
    });
  });

  it('refuses a step the parent has not finished, and an unknown run, with exit 2', async () => {
    const late = await mlgym({}, 'fork', parent.runId, '--at-step', '40');
    expect(late.status).toBe(2);
    expect(late.stderr).toContain('has not finished step 40');
    expect((await mlgym({}, 'fork', 'run-nope-123', '--at-step', '0')).status).toBe(2);
    expect((await mlgym({}, 'fork', parent.runId, '--at-step', '2', '--max-steps', '3')).status).toBe(2);
  });
});
