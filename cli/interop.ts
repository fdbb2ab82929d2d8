import { writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { exportRun } from '../lib/interop/export.js';
import { replayFromTraj, replayYaml } from '../lib/interop/replay.js';
import { readTraj } from '../lib/interop/traj.js';
import { hasRun } from '../lib/report/records.js';
import { recordName } from '../lib/run/records.js';
import { printJson, say, UsageError } from './output.js';

/** `mlgym export <runId> --out <dir>`: a finished run as MLGym's run folder (<task>.traj, results.json, args.yaml). */
export async function exportCommand(runId: string, opts: { out: string; json?: boolean }): Promise<void> {
  const store = new ArtifactStore();
  if (!(await hasRun(store, runId))) throw new UsageError(`no run "${runId}" in ${store.location}`);
  if (!(await store.readJson(runId, recordName.result))) throw new UsageError(`run "${runId}" has no result yet: only a finished run can be exported`);
  const exported = await exportRun(store, runId, resolve(opts.out));
  if (opts.json) return printJson(exported);
  say(`${runId}: wrote ${exported.files.traj} (${exported.steps} steps), ${exported.files.results} and ${exported.files.args}`);
}

/** `mlgym import <file.traj> [--out <replay.yaml>]`: an MLGym trajectory's actions as a replay file for `--model replay:<file>`. */
export function importCommand(file: string, opts: { out?: string; json?: boolean }): void {
  const steps = replayFromTraj(readTraj(file));
  const task = basename(file).replace(/\.traj$/, '');
  const out = resolve(opts.out ?? join(dirname(file), `${task}.replay.yaml`));
  writeFileSync(out, replayYaml(steps, basename(file)));
  if (opts.json) return printJson({ file: resolve(file), out, task, actions: steps.length, model: `replay:${out}` });
  say(`wrote ${steps.length} action(s) to ${out}; replay them with --model replay:${out} (task ${task})`);
}
