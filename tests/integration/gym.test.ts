import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { MlgymEnv, runEpisodes } from '../../lib/gym/env.js';
import type { GymObservation } from '../../lib/gym/types.js';
import { repoRoot } from '../../lib/home.js';
import { readTrajectory } from '../../lib/run/records.js';
import type { RunResult, RunStatus } from '../../lib/run/types.js';
import { gymQuery, gymStepUpdate, statusQuery } from '../../workflows/messages.js';
import { STRATEGY } from '../helpers/gymPython.js';
import { useTestTemporal } from '../helpers/temporal.js';

/** The reason an update was refused or failed. */
async function refusal(update: Promise<unknown>): Promise<string> {
  const err = await update.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof WorkflowUpdateFailedError)) throw new Error(`expected a failed update, got ${String(err)}`);
  return (err.cause as Error | undefined)?.message ?? err.message;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `ok` holds (no timing assertion: the deadline only stops a hung test). */
async function waitUntil<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(200);
  }
}

describe('the Gym environment of external runs (TypeScript client)', () => {
  const t = useTestTemporal();

  it('plays a quickDilemma episode: a strategy, validate, submit; the final score is in the info', async () => {
    const worker = await t.worker('gym-ts');
    await worker.runUntil(async () => {
      const env = await MlgymEnv.connect({ client: t.client, taskQueue: 'gym-ts', reward: 'improvement' });
      const [first, firstInfo] = await env.reset({ seed: 3, options: { task: 'quickDilemma', maxSteps: 8 } });
      expect(first).toContain('row_strategy(history)');
      expect(first).toContain('validate');
      expect(first).toContain('(Steps used: 0 of 8, remaining: 8)');
      expect(firstInfo.task?.id).toBe('quickDilemma');
      expect(firstInfo.task?.commands).toContain('edit <start>:<end>');
      expect(firstInfo.metric).toMatchObject({ name: 'Score', direction: 'max' });
      expect(firstInfo.metric.baseline).toBeTypeOf('number');
      expect(firstInfo.step).toBe(0);

      const look = await env.step('cat strategy.py');
      expect(look.observation).toContain('def row_strategy(history):');
      expect(look.observation).toContain('(Steps used: 1 of 8, remaining: 7)');
      expect(look.observation).toContain('(Working directory: /home/agent/workspace)');
      expect(look).toMatchObject({ reward: 0, terminated: false, truncated: false });
      expect(look.info.exitCode).toBe(0);

      const write = await env.step(STRATEGY);
      expect(write.observation).toContain('ok 0');

      const validate = await env.step('validate');
      expect(validate.observation).toContain('Evaluation Score (validation split)');
      const shown = validate.info.validation?.metrics?.Score;
      expect(shown).toBeTypeOf('number');
      expect(validate.reward).toBeCloseTo(shown! - firstInfo.metric.baseline!, 9);
      expect(validate.terminated).toBe(false);

      const submit = await env.step('submit');
      expect(submit.terminated).toBe(true);
      expect(submit.truncated).toBe(false);
      expect(submit.info.final?.exitStatus).toBe('submitted');
      expect(submit.info.finalScore).toBeTypeOf('number');
      expect(submit.reward).toBeCloseTo(submit.info.finalScore! - firstInfo.metric.baseline!, 9);
      await expect(env.step('ls')).rejects.toThrow(/is over/);

      const result = await env.result();
      expect(result.status).toBe('completed');
      expect(result.submission?.metrics?.Score).toBe(submit.info.finalScore);
      expect(result.model).toBe('external');
      const steps = await readTrajectory(new ArtifactStore(), env.runId!);
      expect(steps.map((s) => s.action)).toEqual(['cat strategy.py', STRATEGY, 'validate', 'submit']);
      await env.close();
    });
  });

  it('drives a run started by `mlgym run --model external` by attaching to it', async () => {
    const worker = await t.worker('gym-cli');
    await worker.runUntil(async () => {
      const cli = spawn('node', [join(repoRoot, 'bin/mlgym.js'), 'run', 'quickDilemma', '--model', 'external', '--max-steps', '5', '--idle-pause', '120', '--no-worker', '--json'], {
        env: { ...process.env, MLGYM_TASK_QUEUE: 'gym-cli' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      cli.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
      try {
        const runId = (await waitUntil(async () => /started (run-\S+)/.exec(stderr)?.[1], (id) => id !== undefined, 'the CLI to start the run'))!;
        expect(runId).toMatch(/^run-quickDilemma-external-0-/);
        expect((await t.client.workflow.getHandle(runId).query(gymQuery)).idlePauseS).toBe(120);
        const env = await MlgymEnv.connect({ client: t.client });
        const [first] = await env.attach(runId);
        expect(first).toContain('(Steps used: 0 of 5, remaining: 5)');
        expect((await env.step('submit')).terminated).toBe(true);
        expect(await exited).toBe(0);
        expect(JSON.parse(stdout)).toMatchObject({ runId, model: 'external', exitStatus: 'submitted', steps: 1 });
      } finally {
        if (cli.exitCode === null) cli.kill('SIGKILL');
      }
    });
  });

  it('runs episodes in parallel', async () => {
    const worker = await t.worker('gym-parallel');
    await worker.runUntil(async () => {
      const finals = await runEpisodes(2, (_obs, info) => (info.step === 0 ? 'validate' : 'submit'), {
        seed: 40,
        options: { task: 'quickDilemma', maxSteps: 4 },
        env: { client: t.client, taskQueue: 'gym-parallel' },
      });
      expect(finals.map((f) => f.final?.exitStatus)).toEqual(['submitted', 'submitted']);
      expect(finals.every((f) => typeof f.finalScore === 'number')).toBe(true);
      expect(new Set(finals.map((f) => f.runId)).size).toBe(2);
    });
  });

  it('runs a step sent again (same step number) once and returns its recorded observation', async () => {
    const worker = await t.worker('gym-retry');
    await worker.runUntil(async () => {
      const env = await MlgymEnv.connect({ client: t.client, taskQueue: 'gym-retry' });
      await env.reset({ options: { task: 'quickDilemma', maxSteps: 6 } });
      const handle = t.client.workflow.getHandle(env.runId!);
      const count = 'sleep 2; echo ran >> /home/agent/workspace/count.txt; wc -l < /home/agent/workspace/count.txt';
      // The same step twice at once (two clients, or a retry while the first is in flight), with different
      // update ids (a restarted client does not know the id it used), then once more after it finished.
      const [a, b] = await Promise.all([
        handle.executeUpdate(gymStepUpdate, { args: [{ step: 0, action: count }], updateId: 'first' }),
        (async () => {
          await waitUntil(() => handle.query(gymQuery), (s) => s.runningStep === 0 || s.nextStep > 0, 'step 0 to start');
          return handle.executeUpdate(gymStepUpdate, { args: [{ step: 0, action: count }], updateId: 'second' });
        })(),
      ]);
      const again = await env.sendStep(0, count);
      expect(a.observation).toContain('1\n');
      expect(b).toEqual(a);
      expect(again).toEqual(a);
      // Another action for a step that has run, or a step ahead of the run: refused, nothing runs.
      expect(await refusal(handle.executeUpdate(gymStepUpdate, { args: [{ step: 0, action: 'echo other' }] }))).toMatch(/step 0 already has another action/);
      expect(await refusal(handle.executeUpdate(gymStepUpdate, { args: [{ step: 5, action: 'ls' }] }))).toMatch(/step 5 is ahead of the run: the next step is 1/);

      const next = await env.step('cat /home/agent/workspace/count.txt');
      expect(next.observation.split('\n').filter((l) => l === 'ran')).toHaveLength(1);
      await env.step('echo third');
      // An older step asked again after later ones: rebuilt from the run's records, still not run again.
      const old = await env.sendStep(0, count);
      expect(old.observation).toBe(a.observation);
      const last = await env.step('cat /home/agent/workspace/count.txt');
      expect(last.observation.split('\n').filter((l) => l === 'ran')).toHaveLength(1);
      await env.close(); // forfeits the unfinished episode
      const result = await env.result();
      expect(result.exitStatus).toBe('exit_forfeit');
    });
  });

  it('carries an episode across continue-as-new: steps sent during the hand-over are retried, old steps are still answered', async () => {
    const worker = await t.worker('gym-can');
    await worker.runUntil(async () => {
      const env = await MlgymEnv.connect({ client: t.client, taskQueue: 'gym-can' });
      await env.reset({ options: { task: 'quickDilemma', maxSteps: 8, continueEvery: 2 } });
      const answers: string[] = [];
      for (let i = 0; i < 5; i++) answers.push((await env.step(`echo line ${i} >> lines.txt; wc -l < lines.txt`)).observation);
      expect(answers.map((a) => a.split('\n')[0])).toEqual(['1', '2', '3', '4', '5']);
      // Step 1 was answered by an earlier execution: asked again now, it is rebuilt from the records.
      expect((await env.sendStep(1, 'echo line 1 >> lines.txt; wc -l < lines.txt')).observation).toBe(answers[1]);
      const done = await env.step('submit');
      expect(done.terminated).toBe(true);
      // Three executions (two steps each), chained by continue-as-new.
      const executions: string[][] = [];
      for (let runId: string | undefined = undefined; ; ) {
        const { events } = await t.client.workflow.getHandle(env.runId!, runId).fetchHistory();
        executions.push(events!.flatMap((e) => (e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure ? [e.workflowExecutionUpdateCompletedEventAttributes.outcome.failure.applicationFailureInfo?.type ?? '?'] : [])));
        runId = events![0]!.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
        if (!runId) break;
      }
      expect(executions).toHaveLength(3);
      // A step sent while an execution hands over fails there with GymRetry, and the client sends it again.
      expect(executions.flat().every((type) => type === 'GymRetry')).toBe(true);
      console.log(`gym continue-as-new: ${executions.flat().length} step(s) handed over to the next execution`);
      const result = await env.result();
      expect(result.steps).toBe(6);
      const steps = await readTrajectory(new ArtifactStore(), env.runId!);
      expect(steps.map((s) => s.action)).toEqual([...answers.map((_, i) => `echo line ${i} >> lines.txt; wc -l < lines.txt`), 'submit']);
    });
  });

  it('pauses a run whose client went silent, resumes it on the next action, then ends it with an autosubmit', async () => {
    const worker = await t.worker('gym-idle');
    await worker.runUntil(async () => {
      const env = await MlgymEnv.connect({ client: t.client, taskQueue: 'gym-idle' });
      await env.reset({ options: { task: 'quickDilemma', maxSteps: 10, idlePauseS: 2, idleEndS: 6 } });
      const handle = t.client.workflow.getHandle(env.runId!);
      const paused = await waitUntil(() => handle.query(statusQuery), (s: RunStatus) => s.status === 'paused', 'the idle pause');
      expect(paused.lastAction).toMatch(/^idle: no client action for 2s/);
      expect((await handle.query(gymQuery)).idlePaused).toBe(true);

      const back = await env.step('echo back');
      expect(back.observation).toContain('back');

      // Silent again: paused, then cancelled with an autosubmit.
      const result = (await handle.result()) as RunResult;
      expect(result.exitStatus).toBe('autosubmission (exit_cancel)');
      expect(result.status).toBe('completed');
      expect(result.steps).toBe(1);
      // A client coming back after the end gets the observation that ended the episode.
      const late = await env.step('ls');
      expect(late.truncated).toBe(true);
      expect(late.terminated).toBe(false);
      expect(late.info.final?.exitStatus).toBe('autosubmission (exit_cancel)');
      expect(late.info.finalScore).toBe(result.submission?.metrics?.Score);
      expect(late.observation).toContain('The episode ended without another step');
      expect(result.gym).toEqual(late.info.raw satisfies GymObservation);
    });
  });
});
