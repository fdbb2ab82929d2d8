import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { ArtifactStore } from '../artifacts/store.js';
import { repoRoot, taskFile } from '../home.js';
import { readRunRecords } from '../report/records.js';
import { taskFacts } from '../report/taskFacts.js';
import { protocolOf } from '../run/protocol.js';
import { recordName, type ObservationRecord } from '../run/records.js';
import { mlgymResults } from '../run/score.js';
import { WORKSPACE } from '../sandbox/docker.js';
import { trajFromRecords, type ShellState } from './toTraj.js';

export interface ExportResult {
  runId: string;
  task: string;
  steps: number;
  files: { traj: string; results: string; args: string };
}

/** The shell state after each step, when its observation record carries it; else what the agent's prompt shows. */
async function shellStates(store: ArtifactStore, runId: string, steps: number[]): Promise<(step: number) => ShellState> {
  const after = new Map<number, Partial<ShellState>>();
  for (const step of steps) {
    const record = await store.readJson<ObservationRecord & Partial<ShellState>>(runId, recordName.observation(step));
    if (record) after.set(step, { openFile: record.openFile, workingDir: record.workingDir });
  }
  return (step) => ({ openFile: after.get(step - 1)?.openFile ?? 'n/a', workingDir: after.get(step - 1)?.workingDir ?? WORKSPACE });
}

/**
 * Write a finished run as an MLGym run folder: `<task>.traj`, `results.json` (the scoring input) and an
 * `args.yaml` naming the model and the task config, as MLGym's run folders do.
 */
export async function exportRun(store: ArtifactStore, runId: string, outDir: string): Promise<ExportResult> {
  const records = await readRunRecords(store, runId);
  const { result } = records;
  if (!result) throw new Error(`run "${runId}" has no result yet (still running, or it failed before scoring): nothing to export`);
  const facts = taskFacts(result.task);
  const stateBefore = await shellStates(store, runId, records.steps.map((s) => s.step));
  const submissionPath = facts?.artifact ? `${WORKSPACE}/${facts.artifact}` : WORKSPACE;
  // The builds that ran it (docs/versioning.md) go into all three files; MLGym's readers ignore the extra keys.
  const builds = result.builds?.length ? { builds: result.builds } : records.builds?.length ? { builds: records.builds } : {};
  // So is the protocol (what validate showed the agent): a reader can keep runs of one protocol together.
  const recorded = { ...builds, protocol: protocolOf(result) };
  const made = trajFromRecords(records, { stateBefore, submissionPath });
  const traj = { ...made, info: { ...made.info, ...recorded } };
  const results = { ...(records.mlgymResults ?? mlgymResults(records.attempts, facts?.baseline)), ...recorded };
  const args = { agent: { model: { model_name: result.model } }, environment: { task_config_path: relative(repoRoot, taskFile(result.task)) }, run_id: runId, ...recorded };

  await mkdir(outDir, { recursive: true });
  const files = { traj: join(outDir, `${result.task}.traj`), results: join(outDir, 'results.json'), args: join(outDir, 'args.yaml') };
  await writeFile(files.traj, JSON.stringify(traj, null, 2));
  await writeFile(files.results, JSON.stringify(results, null, 2));
  await writeFile(files.args, toYaml(args));
  return { runId, task: result.task, steps: traj.trajectory.length, files };
}
