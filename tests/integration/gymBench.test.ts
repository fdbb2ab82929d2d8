import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchmarkResult } from '../../lib/bench/types.js';
import { externalRuns } from '../../lib/gym/runs.js';
import { repoRoot } from '../../lib/home.js';
import { runPython } from '../helpers/gymPython.js';
import { useTestTemporal } from '../helpers/temporal.js';

interface Played {
  run_id: string;
  final: { exit_status: string; score: number | null };
}

describe('a benchmark of external runs (`mlgym bench --models external`)', () => {
  const t = useTestTemporal();

  it('starts runs that wait for a client; the Python client lists them by benchmark id and plays them; the benchmark ends with their scores and AUP', async () => {
    const queue = 'gym-bench';
    const benchId = `gym-bench-${randomBytes(3).toString('hex')}`;
    const worker = await t.worker(queue);
    await worker.runUntil(async () => {
      const args = ['bench', '--tasks', 'quickDilemma', '--models', 'external', '--seeds', '2', '--max-steps', '4', '--bench-id', benchId, '--no-worker', '--json'];
      const cli = spawn('node', [join(repoRoot, 'bin/mlgym.js'), ...args], { env: { ...process.env, MLGYM_TASK_QUEUE: queue }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      cli.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
      try {
        const agent = await runPython(['tests/play_bench.py', benchId, '2'], queue).finished;
        expect(agent.code, agent.stderr).toBe(0);
        const played = agent.stdout.trim().split('\n').map((line) => JSON.parse(line) as Played);
        expect(await exited, stderr).toBe(0);
        const result = JSON.parse(stdout) as BenchmarkResult;

        // The client found exactly the benchmark's two runs, and each ended with its submission.
        expect(played.map((p) => p.run_id).sort()).toEqual(result.runs.map((r) => r.runId).sort());
        expect(played.every((p) => p.final.exit_status === 'submitted' && typeof p.final.score === 'number')).toBe(true);
        // The benchmark counts them like any other runs: their scores, the best per task × model, and AUP.
        expect(result.runs.map((r) => [r.model, r.seed, r.status, r.exitStatus])).toEqual([
          ['external', 0, 'completed', 'submitted'],
          ['external', 1, 'completed', 'submitted'],
        ]);
        for (const run of result.runs) expect(run.submission).toBe(played.find((p) => p.run_id === run.runId)!.final.score);
        expect(result.scores).toEqual([expect.objectContaining({ task: 'quickDilemma', model: 'external', bestSubmission: Math.max(...result.runs.map((r) => r.submission!)) })]);
        expect(result.aup.bestSubmission.external).toBeTypeOf('number');
        expect(result.aup.bestAttempt.external).toBeTypeOf('number');
        // The TypeScript client finds the same runs (ended now, so not among the running ones by default).
        expect(await externalRuns(t.client, { benchId, running: false })).toEqual(result.runs.map((r) => r.runId).sort());
      } finally {
        if (cli.exitCode === null) cli.kill('SIGKILL');
      }
    });
  });
});
