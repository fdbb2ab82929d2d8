import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTask, type LoadedTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import type { RunResult } from '../../lib/run/types.js';
import { docker, labels } from '../../lib/sandbox/docker.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { copiesIn } from '../helpers/copies.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

/**
 * How far a fresh baseline run may land from its recorded score: three standard deviations of the
 * recorded noise, and for a deterministic metric (noise 0) the rounding of the evaluation's output.
 */
function tolerance(task: LoadedTask, metric: string, recorded: number): number {
  return Math.max(3 * (task.baseline_noise[metric] ?? 0), 1e-6 * Math.max(1, Math.abs(recorded)));
}

/**
 * A machine-dependent metric (3SATTime's CPU Time) moves with the host's CPU model, so it is not
 * compared with the recorded score; its machine-independent companion (Decisions) is, exactly.
 */
const machineDependent = (task: LoadedTask, metric: string) => task.metrics.some((m) => m.name === metric && m.machine_dependent);

/** Files the agent's container must never hold: the grader's scripts and answers. */
const secrets: Record<string, string[]> = {
  battleOfSexes: ['evaluate.py'],
  blotto: ['evaluate.py'],
  '3SATTime': ['evaluate.py', 'instances.py'],
  regressionKaggleHousePrice: ['evaluate.py', 'answers.csv'],
};

/** What the agent's data folder must look like: the listing, then the lines of a check run in it. */
const dataChecks: Record<string, { dir: string; check: string; expected: string[] }> = {
  regressionKaggleHousePrice: {
    dir: 'data/housePrice',
    // the target column only in train.csv and validation.csv; 74 columns (Id + 73 features) in test.csv
    check: 'grep -l SalePrice *.csv; head -1 test.csv | tr , "\\n" | wc -l',
    expected: ['README.txt', 'test.csv', 'train.csv', 'validation.csv', 'train.csv', 'validation.csv', '74'],
  },
};

describe('the CPU tasks with the baseline agent, through the real server, worker and Docker', () => {
  const t = useTestTemporal();

  for (const id of Object.keys(secrets)) {
    it(`${id}: the baseline submits its recorded score, and no answers reach the agent's container`, async () => {
      const task = loadTask(taskFile(id), datasetsDir);
      // keep: true so the container can be searched afterwards; this test removes it.
      const input = runInput(id, 'baseline', { keep: true });
      const queue = `cpu-${id}`;
      const worker = await t.worker(queue);
      const handle = await startRun(t.client, queue, input);
      const result = (await worker.runUntil(handle.result())) as RunResult;
      const [info] = await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${input.runId}`, `${labels.role}=agent`] } });
      try {
        expect(result.status, JSON.stringify(result.attempts)).toBe('completed');
        expect(result.exitStatus).toBe('submitted');
        expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
        const baseline = task.baseline_scores[0]!;
        const submitted = result.submission!.metrics!;
        expect(Object.keys(submitted).sort()).toEqual(task.metrics.map((m) => m.name).sort());
        for (const [metric, recorded] of Object.entries(baseline)) {
          const got = submitted[metric]!;
          if (machineDependent(task, metric)) expect(got, metric).toBeGreaterThan(0);
          else expect(Math.abs(got - recorded), `${metric}: got ${got}, recorded ${recorded}`).toBeLessThanOrEqual(tolerance(task, metric, recorded));
        }
        // validate showed the validation split, a different evaluation from the test split
        expect(result.attempts[0]!.shownMetrics).toBeDefined();
        expect(result.attempts[0]!.shownMetrics).not.toEqual(result.attempts[0]!.metrics);

        expect(info).toBeDefined();
        const found = await execIn(info!.Id, ['sh', '-c', `find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o \\( ${secrets[id]!.map((n) => `-name '${n}'`).join(' -o ')} \\) -print 2>/dev/null`], { user: 'root' });
        expect(found.stdout.trim()).toBe('');
        const secretFiles = secrets[id]!.map((name) => join(task.dir, name)).filter(statSafe);
        for (const [file, copies] of await copiesIn(info!.Id, secretFiles)) expect(copies, `copies of ${file}`).toEqual([]);
        const data = dataChecks[id];
        if (data) {
          // root-owned and read-only, so the agent cannot change what the grader's answers refer to
          const out = await execIn(info!.Id, ['sh', '-c', `cd ${data.dir} && ls && ${data.check} && stat -c '%U %a' * | sort -u && (echo x >> $(ls | head -1)) 2>/dev/null || echo read-only`]);
          expect(out.stdout.trim().split('\n')).toEqual([...data.expected, 'root 444', 'read-only']);
        }
      } finally {
        if (info) await docker().getContainer(info.Id).remove({ force: true, v: true });
        await docker().getVolume(`mlgym-ws-${input.runId}`).remove().catch(() => undefined);
      }
    });
  }
});

function statSafe(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
