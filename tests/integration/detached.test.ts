import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hostId, TASK_QUEUE } from '../../lib/temporal/client.js';
import { mlgym } from '../helpers/cli.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { useExclusively } from '../helpers/exclusive.js';

useExclusively('default-queue');

const json = (text: string) => JSON.parse(text);

describe('detached runs and benchmarks, `mlgym runs` and `mlgym watch`', () => {
  const t = useTestTemporal();

  it('run --detach prints the id and returns; runs lists it from visibility; watch follows it to its result', async () => {
    const worker = await t.worker(TASK_QUEUE);
    await worker.runUntil(async () => {
      const started = await mlgym({}, 'run', 'quickDilemma', '--model', 'baseline', '--max-steps', '5', '--detach', '--json');
      expect(started.status, started.stderr).toBe(0);
      const { runId, taskQueue, detached } = json(started.stdout);
      expect(detached).toBe(true);
      expect(taskQueue).toBe(TASK_QUEUE);
      // Returned at once: the run has not finished.
      expect((await t.client.workflow.getHandle(runId).describe()).status.name).toBe('RUNNING');

      const listed = await mlgym({}, 'runs', '--task', 'quickDilemma', '--model', 'baseline', '--json');
      expect(listed.status, listed.stderr).toBe(0);
      const running = json(listed.stdout).runs.find((r: { runId: string }) => r.runId === runId);
      expect(running).toMatchObject({ task: 'quickDilemma', model: 'baseline', execution: 'running' });

      const watched = await mlgym({}, 'watch', runId, '--interval', '0.5', '--json');
      expect(watched.status, watched.stderr).toBe(0);
      const result = json(watched.stdout);
      expect(result).toMatchObject({ runId, status: 'completed', exitStatus: 'submitted' });
      expect(watched.stderr).toContain(`${runId}: `);

      const after = json((await mlgym({}, 'runs', '--bench', 'none-such', '--json')).stdout);
      expect(after.runs).toEqual([]);
      const done = json((await mlgym({}, 'runs', '--status', 'completed', '--limit', '50', '--json')).stdout).runs.find((r: { runId: string }) => r.runId === runId);
      expect(done).toMatchObject({ runId, task: 'quickDilemma', model: 'baseline', status: 'completed', execution: 'completed', step: result.steps, host: hostId() });
      expect(done.bestScore).toBe(result.submission.metrics.Score);

      const table = await mlgym({}, 'runs', '--task', 'quickDilemma');
      expect(table.stderr).toMatch(/RUN\s+TASK\s+MODEL\s+STATUS\s+STEP\s+BEST\s+HOST/);
      expect(table.stderr).toMatch(new RegExp(`${runId}\\s+quickDilemma\\s+baseline\\s+completed\\s+${result.steps}\\s`));
    });
  });

  it('bench --detach prints the benchmark id alone on stdout; watch attaches and exits as bench would', async () => {
    const benchId = `detached-${randomBytes(3).toString('hex')}`;
    const worker = await t.worker(TASK_QUEUE);
    await worker.runUntil(async () => {
      const started = await mlgym({}, 'bench', '--tasks', 'quickDilemma', '--models', 'baseline', '--max-steps', '5', '--bench-id', benchId, '--detach');
      expect(started.status, started.stderr).toBe(0);
      expect(started.stdout).toBe(`${benchId}\n`);

      const watched = await mlgym({}, 'watch', benchId, '--json');
      expect(watched.status, watched.stderr).toBe(0);
      const result = json(watched.stdout);
      expect(result.benchId).toBe(benchId);
      expect(result.runs).toHaveLength(1);
      expect(result.runs[0]).toMatchObject({ task: 'quickDilemma', model: 'baseline', status: 'completed' });
      const runs = json((await mlgym({}, 'runs', '--bench', benchId, '--json')).stdout).runs;
      expect(runs.map((r: { runId: string }) => r.runId)).toEqual([result.runs[0].runId]);
    });
  });

  it('refuses bad input with exit 2: an unknown id to watch, a filter that is no keyword, a bad limit', async () => {
    expect((await mlgym({}, 'watch', 'no-such-run')).stderr).toContain('no run or benchmark "no-such-run"');
    expect((await mlgym({}, 'watch', 'no-such-run')).status).toBe(2);
    const quote = await mlgym({}, 'runs', '--task', "x' OR 'a'='a", '--json');
    expect(quote.status).toBe(2);
    expect(json(quote.stdout).error).toMatch(/--task expects letters/);
    expect((await mlgym({}, 'runs', '--limit', '0')).status).toBe(2);
  });
});
