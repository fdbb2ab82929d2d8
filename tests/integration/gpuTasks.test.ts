import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTask, type LoadedTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import type { RunResult } from '../../lib/run/types.js';
import { findAgentContainer, removeRunResources } from '../../lib/sandbox/container.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { gradeWorkspace } from '../../lib/sandbox/grader.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

/** A broken artifact: a shell command run in the workspace after the baseline, and the grader's complaint. */
interface Malformed {
  what: string;
  command: string;
  error: RegExp;
}

const csvCases = (column: string, rows: number): Malformed[] => [
  { what: 'no submission.csv', command: 'rm submission.csv', error: /submission\.csv not found/ },
  { what: 'an empty file', command: ': > submission.csv', error: /submission\.csv is empty/ },
  { what: 'the wrong column', command: `sed -i 1s/.*/prediction/ submission.csv`, error: new RegExp(`needs a column named ${column} \\(found: prediction\\)`) },
  { what: 'a missing row', command: 'sed -i \\$d submission.csv', error: new RegExp(`has ${rows - 1} rows, expected ${rows}`) },
  { what: 'bytes that are not UTF-8 text', command: 'head -c 3000 /dev/urandom > submission.csv', error: /is not a readable CSV file/ },
];

/** Per task: how its artifact can be broken, and what the grader must say. */
const malformed: Record<string, Malformed[]> = {
  imageClassificationCifar10: [
    ...csvCases('label', 400),
    { what: 'a label that is not a number', command: 'sed -i \\$s/.*/cat/ submission.csv', error: /line 401: label 'cat' is not a number/ },
    { what: 'a class out of range', command: 'sed -i \\$s/.*/10/ submission.csv', error: /label '10' is not a class number 0-9/ },
    { what: 'NaN', command: 'sed -i \\$s/.*/nan/ submission.csv', error: /label 'nan' is not a class number 0-9/ },
  ],
  imageCaptioningCOCO: [...csvCases('caption', 200)],
};

/** Seconds of the baseline's spread the suite allows: 3 × the recorded fixture noise, else the evaluation's rounding. */
function tolerance(task: LoadedTask, metric: string, recorded: number): number {
  return Math.max(3 * (task.baseline_noise[metric] ?? 0), 1e-6 * Math.max(1, Math.abs(recorded)));
}

/** Paths in the container of files with exactly the content of `file`. */
async function copiesOf(containerId: string, file: string): Promise<string[]> {
  const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
  const size = statSync(file).size;
  const out = await execIn(containerId, ['sh', '-c', `find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f -size ${size}c -print0 2>/dev/null | xargs -0 -r sha256sum`], { user: 'root' });
  return out.stdout.split('\n').filter((l) => l.startsWith(digest)).map((l) => l.slice(66));
}

/** What only the grader may hold: the evaluation scripts, the task's private files and the fixture's answers. */
function graderOnlyFiles(task: LoadedTask): string[] {
  const own = [...task.evaluation_paths, ...task.private_files].map((p) => join(task.dir, p));
  const answers = task.datasets.flatMap((d) => (d.privateDir ? readdirSync(d.privateDir).map((f) => join(d.privateDir!, f)) : []));
  return [...own, ...answers].filter((f) => statSync(f).isFile());
}

describe('the GPU-scale tasks on their fixture data, with the baseline agent, through the real server, worker and Docker', () => {
  const t = useTestTemporal();
  const kept: string[] = [];
  afterAll(async () => {
    for (const runId of kept) await removeRunResources(runId);
  });

  for (const id of Object.keys(malformed)) {
    describe(id, () => {
      const task = loadTask(taskFile(id), datasetsDir, { data: 'fixture' });
      let run: { runId: string; image: string; containerId: string } | undefined;

      it('the baseline trains, validates and submits near its recorded fixture score; no answers reach the agent', async () => {
        const input = runInput(id, 'baseline', { data: 'fixture', gpus: 0, keep: true, maxSteps: 5 });
        kept.push(input.runId);
        const worker = await t.worker(`fixture-${id}`);
        const result = (await worker.runUntil((await startRun(t.client, `fixture-${id}`, input)).result())) as RunResult;
        expect(result.status, JSON.stringify(result.attempts)).toBe('completed');
        expect(result.exitStatus).toBe('submitted');
        expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
        const submitted = result.submission!.metrics!;
        expect(Object.keys(submitted).sort()).toEqual(task.metrics.map((m) => m.name).sort());
        for (const [metric, recorded] of Object.entries(task.baseline_scores[0]!)) {
          expect(Math.abs(submitted[metric]! - recorded), `${metric}: got ${submitted[metric]}, recorded ${recorded}`).toBeLessThanOrEqual(tolerance(task, metric, recorded));
        }
        expect(result.attempts[0]!.shownMetrics).toBeDefined();

        const container = (await findAgentContainer(input.runId))!;
        const env = await execIn(container.Id, ['sh', '-c', 'echo $MLGYM_DATA; nproc; ls data 2>/dev/null']);
        expect(env.stdout.split('\n')[0]).toBe('fixture');
        expect(env.stdout.split('\n').slice(2).filter(Boolean)).toEqual(task.datasets.map((d) => d.name).sort());
        for (const file of graderOnlyFiles(task)) expect(await copiesOf(container.Id, file), `copies of ${file}`).toEqual([]);
        run = { runId: input.runId, image: container.Image, containerId: container.Id };
      });

      it("the evaluation rejects malformed artifacts, saying what is wrong", async () => {
        expect(run, 'needs the baseline run above').toBeDefined();
        const { runId, image, containerId } = run!;
        const shell = (command: string) => execIn(containerId, ['bash', '-c', command], { workdir: '/home/agent/workspace' });
        await shell('tar --exclude=./data -cf /tmp/baseline.tar .');
        let step = 100;
        for (const c of malformed[id]!) {
          const broken = await shell(`find . -mindepth 1 -maxdepth 1 ! -name data -exec rm -rf {} + && tar -xf /tmp/baseline.tar && ${c.command}`);
          expect(broken.exitCode, `${c.what}: ${broken.stderr}`).toBe(0);
          const { validation } = await gradeWorkspace(runId, step++, image, task, ['validation']);
          expect(validation, c.what).toMatchObject({ ok: false, error: expect.stringMatching(c.error) });
        }
      });
    });
  }
});
