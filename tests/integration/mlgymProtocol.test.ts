import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { exportRun } from '../../lib/interop/export.js';
import { repoRoot } from '../../lib/home.js';
import { readRunRecords } from '../../lib/report/records.js';
import { runFromRecords } from '../../lib/report/run.js';
import { runFromTraj } from '../../lib/report/trajRun.js';
import { readTrajectory, recordName, type ObservationRecord } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { runInput, startRun } from '../helpers/runs.js';
import { useTestTemporal } from '../helpers/temporal.js';

const store = () => new ArtifactStore();

describe("MLGym's protocol, execution times, memory and data placement, through the real server, worker and Docker", () => {
  const t = useTestTemporal();

  it("--protocol mlgym: validate shows the test score; result, report and export record the protocol and each step's real execution time", async () => {
    const input = runInput('quickDilemma', 'baseline', { protocol: 'mlgym' });
    const worker = await t.worker('protocol-mlgym');
    const handle = await startRun(t.client, 'protocol-mlgym', input);
    const result = (await worker.runUntil(handle.result())) as RunResult;

    expect(result).toMatchObject({ status: 'completed', protocol: 'mlgym' });
    const [validate] = result.attempts;
    // The validation split's score differs from the test split's (baselineRun.test.ts): here the agent saw the test one.
    expect(validate).toMatchObject({ kind: 'validate', shownMetrics: validate!.metrics });
    const steps = await readTrajectory(store(), input.runId);
    expect(steps[1]!.observation).toContain(`Evaluation Score (test split): ${JSON.stringify(validate!.metrics)}`);
    expect(await (await handle.describe()).staticSummary()).toContain('MLGym protocol');
    expect(runFromRecords(await readRunRecords(store(), input.runId), 'x').protocol).toBe('mlgym');

    // Every step (command, validate, submit) records how long it ran; the export carries exactly that.
    const recorded = await Promise.all(steps.map((s) => store().readJson<ObservationRecord>(input.runId, recordName.observation(s.step))));
    const seconds = recorded.map((r) => r!.durationS!);
    for (const s of seconds) expect(s).toBeGreaterThan(0);
    const out = mkdtempSync(join(tmpdir(), 'mlgym-protocol-export-'));
    const { files } = await exportRun(store(), input.runId, out);
    const traj = JSON.parse(readFileSync(files.traj, 'utf8'));
    expect(traj.trajectory.map((s: { execution_time: number }) => s.execution_time)).toEqual(seconds);
    expect(traj.info.protocol).toBe('mlgym');
    expect(parseYaml(readFileSync(files.args, 'utf8')).protocol).toBe('mlgym');
    expect(runFromTraj(files.traj).protocol).toBe('mlgym');
  });

  it("an MLGym task folder with memory_enabled and a local dataset: the data lands in workspace/data as MLGym puts it, and the second run reads the first run's note", async () => {
    // A copy of tests/fixtures/mlgym/folder with MLGym's memory_enabled, a task id of its own (so the task's memory
    // starts empty) and a local dataset written as MLGym writes one.
    const folder = mkdtempSync(join(tmpdir(), 'mlgym-memory-folder-'));
    cpSync(join(repoRoot, 'tests', 'fixtures', 'mlgym', 'folder'), folder, { recursive: true });
    const taskId = `rentMemory${process.pid}x${Date.now()}`;
    mkdirSync(join(folder, 'data', 'rentPrediction', 'extra'));
    writeFileSync(join(folder, 'data', 'rentPrediction', 'extra', 'districts.csv'), 'district,index\nnorth,1.1\n');
    writeFileSync(join(folder, 'rentExtra.yaml'), 'name: Rent Extra\ndescription: District price index.\ndata_path: data/rentPrediction/extra\nis_local: true\n');
    const yaml = readFileSync(join(folder, 'rentPrediction.yaml'), 'utf8').replace(/^id: rentPrediction$/m, `id: ${taskId}`);
    const taskFile = join(folder, 'task.yaml');
    writeFileSync(taskFile, `${yaml}\nmemory_enabled: true\ndataset_configs:\n  - datasets/rentExtra.yaml\n`);
    const replay = (name: string, actions: string[]) => {
      const file = join(folder, `${name}.replay.yaml`);
      writeFileSync(file, actions.map((a) => `- { thought: step, action: ${JSON.stringify(a)} }`).join('\n') + '\n- { thought: done, action: submit }\n');
      return `replay:${file}`;
    };
    const run = async (queue: string, model: string) => {
      const input = { ...runInput(taskId, model), taskFile };
      const worker = await t.worker(queue);
      await worker.runUntil(startRun(t.client, queue, input).then((h) => h.result()));
      return readTrajectory(store(), input.runId);
    };

    const first = await run('memory-first', replay('first', ['ls -l data', 'cat data/districts.csv', 'memory_write north district rents 10 percent above the rest']));
    expect(first[0]!.observation).toMatch(/^-r--r--r-- .* districts\.csv$/m);
    expect(first[1]!.observation).toContain('north,1.1');
    expect(first[2]!.observation).toBe('Saved to memory as note 1.');

    const second = await run('memory-second', replay('second', ['memory_read north district']));
    expect(second[0]!.observation).toContain('[note 1] north district rents 10 percent above the rest');
  });
});
