import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capText, HISTORY_DEFAULTS } from '../../lib/agent/history.js';
import { observationMessage } from '../../lib/agent/prompt.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { readTrajectory, recordName, type ObservationRecord } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { removeRunResources } from '../../lib/sandbox/container.js';
import { WORKSPACE } from '../../lib/sandbox/docker.js';
import { repoRoot } from '../../lib/home.js';
import { gymQuery } from '../../workflows/messages.js';
import { startFakeOpenAI } from '../helpers/fakeOpenAI.js';
import { clientDir, playPython, python, runPython, shellStarts, STRATEGY } from '../helpers/gymPython.js';
import { runInput, startRun } from '../helpers/runs.js';
import { killHard } from '../helpers/workerProcess.js';
import { useTestTemporal } from '../helpers/temporal.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Python Gym client (clients/python, installed by scripts/setup.sh)', () => {
  const t = useTestTemporal();

  it('is installed in the venv with temporalio and gymnasium', async () => {
    expect(existsSync(python), `${python} is missing: run \`npm run setup\``).toBe(true);
    const { finished } = runPython(['-c', 'import durable_mlgym, temporalio, gymnasium; print(durable_mlgym.__file__)'], 'none');
    const out = await finished;
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(join(clientDir, 'src', 'durable_mlgym', '__init__.py'));
  });

  it('passes its pytest suite: an episode through gym.make, a retried step, attach, the vector env, parallel episodes', async () => {
    const worker = await t.worker('gym-py');
    const out = await worker.runUntil(runPython(['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-rfEs', 'tests'], 'gym-py').finished);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    // Every test ran and passed: none skipped, none missing (9 without a server, 4 episodes).
    expect(out.stdout).toMatch(/^13 passed in /m);
    expect(out.stdout + out.stderr).not.toMatch(/skipped|failed|error/i);
  });

  it('plays a task through reset/step to the same score and the same observations as the replay agent given the same actions', async () => {
    const queue = 'gym-same';
    const worker = await t.worker(queue);
    await worker.runUntil(async () => {
      const [seed, maxSteps] = [11, 8];
      const actions = ['cat strategy.py', STRATEGY, 'validate', 'wc -l strategy.py', 'submit'];
      const replayFile = join(mkdtempSync(join(tmpdir(), 'mlgym-same-')), 'same.json');
      writeFileSync(replayFile, JSON.stringify(actions));
      const replay = startRun(t.client, queue, runInput('quickDilemma', `replay:${replayFile}`, { seed, maxSteps })).then((h) => h.result() as Promise<RunResult>);
      const played = playPython({ task: 'quickDilemma', seed, options: { max_steps: maxSteps }, actions }, queue).played;
      const [replayed, { lines }] = await Promise.all([replay, played]);
      const runId = lines[0]!.info.run_id;
      const external = (await t.client.workflow.getHandle(runId).result()) as RunResult;

      // The same score: the submission's, the validate's shown and private ones, MLGym's exit.
      const last = lines.at(-1)!;
      expect(replayed.exitStatus).toBe('submitted');
      expect(last.terminated).toBe(true);
      expect(last.info.final?.exit_status).toBe('submitted');
      expect(last.info.final_score).toBeTypeOf('number');
      expect(last.info.final_score).toBe(replayed.submission?.metrics?.Score);
      expect(external.submission?.metrics).toEqual(replayed.submission?.metrics);
      expect(external.attempts).toEqual(replayed.attempts);
      expect(lines[3]!.info.validation).toEqual({ kind: 'validate', metrics: replayed.attempts[0]!.shownMetrics, error: null });

      // The same observations, step by step: each one the client got is what the built-in agent is shown of the
      // replay run's recorded output at that step (capped output, then the footer).
      const store = new ArtifactStore();
      const [replaySteps, externalSteps] = await Promise.all([readTrajectory(store, replayed.runId), readTrajectory(store, runId)]);
      expect(replaySteps.map((s) => s.action)).toEqual(actions);
      expect(externalSteps.map((s) => [s.action, s.observation])).toEqual(replaySteps.map((s) => [s.action, s.observation]));
      for (const [k, line] of lines.slice(1).entries()) {
        const record = (await store.readJson<ObservationRecord>(replayed.runId, recordName.observation(k)))!;
        const position = { stepsUsed: k + 1, maxSteps, openFile: record.openFile ?? 'n/a', workingDir: record.workingDir ?? WORKSPACE };
        expect(line.observation, `step ${k}`).toBe(observationMessage(capText(record.observation, HISTORY_DEFAULTS.capChars), [], position));
        expect(line.info.action).toBe(actions[k]);
      }
      expect(lines[1]!.observation).toContain('def row_strategy(history):');
    });
  });

  it('continues an episode with attach(run_id) after its trainer process was killed in the middle of a step; every action ran exactly once', async () => {
    const worker = await t.worker('gym-kill');
    let runId = '';
    try {
      await worker.runUntil(async () => {
        const runIdFile = join(mkdtempSync(join(tmpdir(), 'mlgym-gym-')), 'run-id');
        const first = runPython(['tests/kill_attach.py', 'start', runIdFile], 'gym-kill');
        // Wait until the slow step 1 is running, then kill the trainer like a crashing machine.
        for (const deadline = Date.now() + 180_000; ; ) {
          if (!runId && existsSync(runIdFile)) runId = readFileSync(runIdFile, 'utf8').trim();
          const status = runId ? await t.client.workflow.getHandle(runId).query(gymQuery) : undefined;
          if (status?.runningStep === 1) break;
          if (Date.now() > deadline || first.child.exitCode !== null) throw new Error(`step 1 never ran: ${(await first.finished).stderr}`);
          await sleep(100);
        }
        await killHard(first.child);
        expect((await first.finished).signal).toBe('SIGKILL');

        const second = await runPython(['tests/kill_attach.py', 'attach', runId], 'gym-kill').finished;
        expect(second.code, `signal ${second.signal}; stderr: ${second.stderr}`).toBe(0);
        const [attached, cat, submitted] = second.stdout.trim().split('\n').map((line) => JSON.parse(line));
        // attach waited for the step in flight and returned the observation after it.
        expect(attached).toMatchObject({ kind: 'attach', step: 2, action: 'sleep 4; echo slow >> /home/agent/workspace/runs.txt' });
        expect(cat.observation.split('\n').filter((l: string) => l === 'start' || l === 'slow')).toEqual(['start', 'slow']);
        expect(submitted.final.exit_status).toBe('submitted');
        const result = (await t.client.workflow.getHandle(runId).result()) as RunResult;
        expect(result.steps).toBe(4);
        expect(result.submission?.metrics?.Score).toBe(submitted.final.score);

        // Exactly once, from the run's records: one recorded turn per step, in order, and the container's session
        // started each shell command once (submit runs in the grader, not in the session).
        const steps = await readTrajectory(new ArtifactStore(), runId);
        expect(steps.map((s) => s.action)).toEqual(['echo start >> /home/agent/workspace/runs.txt', 'sleep 4; echo slow >> /home/agent/workspace/runs.txt', 'cat /home/agent/workspace/runs.txt', 'submit']);
        expect(await shellStarts(runId)).toEqual(['step-0', 'step-1', 'step-2']);
      });
    } finally {
      if (runId) await removeRunResources(runId);
    }
  });

  it('runs the 30-line outside agent of docs/gym.md (clients/python/examples/llm_agent.py) against an OpenAI-compatible endpoint to a submission', async () => {
    const example = readFileSync(join(clientDir, 'examples', 'llm_agent.py'), 'utf8');
    const docs = readFileSync(join(repoRoot, 'docs', 'gym.md'), 'utf8');
    expect(docs).toContain('## An outside agent in 30 lines');
    expect(docs.split('## An outside agent in 30 lines')[1]).toContain('```python\n' + example + '```');
    const fence = (command: string) => `I will look first.\n\n\`\`\`\n${command}\n\`\`\``;
    const fake = await startFakeOpenAI([{ reply: 'No command here.' }, { reply: fence('cat strategy.py') }, { reply: fence('validate') }, { reply: fence('submit') }]);
    const worker = await t.worker('gym-agent');
    try {
      const run = spawn(python, ['examples/llm_agent.py', 'quickDilemma'], { cwd: clientDir, env: { ...process.env, MLGYM_TASK_QUEUE: 'gym-agent', OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'test-key' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let [stdout, stderr] = ['', ''];
      run.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      run.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const code = await worker.runUntil(new Promise<number | null>((resolve) => run.once('exit', resolve)));
      expect(code, stderr).toBe(0);
      expect(stdout).toMatch(/^submitted \d+\.\d+\n$/);
      // The model got the built-in agent's system prompt and the task, a reminder after the reply without a
      // command, and each observation with its footer.
      const [first, second, third] = fake.requests;
      expect(first!.messages.map((m) => m.role)).toEqual(['system', 'user']);
      expect(first!.messages[0]!.content).toContain('```');
      expect(first!.messages[1]!.content).toContain('(Steps used: 0 of 20, remaining: 20)');
      expect(second!.messages.at(-1)!.content).toBe('Reply with exactly one command in a fenced block.');
      expect(third!.messages.at(-1)!.content).toContain('def row_strategy(history):');
      expect(third!.messages.at(-1)!.content).toContain('(Steps used: 1 of 20, remaining: 19)');
      expect(fake.calls).toBe(4);
    } finally {
      await fake.close();
    }
  });
});
