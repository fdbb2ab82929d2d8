import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { benchmarkRuns } from '../lib/report/benchmark.js';
import { buildCounts, onBuild } from '../lib/report/builds.js';
import { protocolCounts, underProtocol } from '../lib/report/protocols.js';
import { buildReport } from '../lib/report/html/page.js';
import { hasRun, readRunRecords } from '../lib/report/records.js';
import { runFromRecords, type ReportRun, type RunHint } from '../lib/report/run.js';
import { runFromTraj } from '../lib/report/trajRun.js';
import { ID_EXPECTED, isId } from '../lib/run/ids.js';
import { namespace } from '../lib/temporal/client.js';
import { DEFAULT_UI_PORT } from '../lib/temporal/server.js';
import { sayAupVariants } from './aup.js';
import { connect, workflowUrl } from './connect.js';
import { printJson, say, UsageError } from './output.js';
import { protocolFlag } from './run.js';

export interface ReportOptions {
  out: string;
  runs?: string;
  traj?: string;
  title?: string;
  /** Only the runs that ran entirely on this build (docs/versioning.md). */
  build?: string;
  /** Only the runs under this protocol (lib/run/protocol.ts). */
  protocol?: string;
  json?: boolean;
}

function list(flag: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`--${flag} expects a comma-separated list`);
  return items;
}

/** A workflow in the Temporal Web UI: TEMPORAL_UI_URL (default the dev server's) and TEMPORAL_NAMESPACE. */
function uiLink(workflowId: string): string {
  const uiUrl = (process.env.TEMPORAL_UI_URL ?? `http://localhost:${DEFAULT_UI_PORT}`).replace(/\/+$/, '');
  return workflowUrl({ address: '', started: false, uiUrl }, namespace(), workflowId)!;
}

/** A run of ours; one without records (its workflow never ran) is shown with what `hint` says. */
async function storeRun(store: ArtifactStore, runId: string, hint?: RunHint): Promise<ReportRun> {
  const run = (await hasRun(store, runId))
    ? runFromRecords(await readRunRecords(store, runId), store.where(runId), hint)
    : runFromRecords({ runId, steps: [], attempts: [], calls: [] }, `no records in ${store.location}`, hint);
  return { ...run, uiUrl: uiLink(runId) };
}

async function benchmarkReportRuns(store: ArtifactStore, benchId: string): Promise<ReportRun[]> {
  const { client } = await connect();
  try {
    const bench = await benchmarkRuns(client, benchId);
    if (!bench) throw new UsageError(`no run "${benchId}" in ${store.location} and no benchmark "${benchId}" on the Temporal server`);
    if (bench.status !== 'completed') say(`benchmark ${benchId} is ${bench.status}: reporting the ${bench.runs.length} run(s) started so far`);
    return Promise.all(bench.runs.map(({ runId, hint }) => storeRun(store, runId, hint)));
  } finally {
    await client.connection.close();
  }
}

/** Give every run an id of its own (two .traj files may sit in folders of the same name). */
function withUniqueIds(runs: ReportRun[]): ReportRun[] {
  const seen = new Map<string, number>();
  return runs.map((run) => {
    const n = (seen.get(run.id) ?? 0) + 1;
    seen.set(run.id, n);
    return n === 1 ? run : { ...run, id: `${run.id}-${n}` };
  });
}

const describeBuilds = (runs: ReportRun[]) =>
  Object.entries(buildCounts(runs))
    .map(([build, n]) => `${build} (${n} run${n === 1 ? '' : 's'})`)
    .join(', ');

/**
 * With `build`, the runs that ran entirely on it (runs moved between builds left out); without, all of them,
 * with a warning when they ran on different builds: their scores and AUP would mix two versions of the code.
 */
function restrictToBuild(runs: ReportRun[], build: string | undefined): ReportRun[] {
  if (build === undefined) {
    const builds = Object.keys(buildCounts(runs));
    if (builds.length > 1) say(`warning: these runs ran on ${builds.length} different builds: ${describeBuilds(runs)}; restrict the report to one with --build <id>`);
    return runs;
  }
  const { kept, excluded } = onBuild(runs, build);
  if (!kept.length) throw new UsageError(`no run here ran entirely on build "${build}"; builds: ${describeBuilds(runs) || 'none'}`);
  if (excluded.length) say(`left out ${excluded.length} run(s) not entirely on build ${build}: ${describeBuilds(excluded)}`);
  return kept;
}

const describeProtocols = (runs: ReportRun[]) =>
  Object.entries(protocolCounts(runs))
    .map(([protocol, n]) => `${protocol} (${n} run${n === 1 ? '' : 's'})`)
    .join(', ');

/** With `protocol`, the runs under it; without, all of them, with a warning when they mix protocols. */
function restrictToProtocol(runs: ReportRun[], protocol: string | undefined): ReportRun[] {
  if (protocol === undefined) {
    if (Object.keys(protocolCounts(runs)).length > 1) say(`warning: these runs ran under different protocols: ${describeProtocols(runs)}; restrict the report to one with --protocol <name>`);
    return runs;
  }
  const { kept, excluded } = underProtocol(runs, protocolFlag(protocol));
  if (!kept.length) throw new UsageError(`no run here ran under protocol "${protocol}"; protocols: ${describeProtocols(runs) || 'none'}`);
  if (excluded.length) say(`left out ${excluded.length} run(s) not under protocol ${protocol}: ${describeProtocols(excluded)}`);
  return kept;
}

/**
 * `mlgym report <runId|benchId> --out <file.html>`, also over `--runs <ids>` and MLGym `--traj <files>`:
 * one self-contained HTML page with profiles, AUP, scores, cost, exits, actions and every trajectory.
 */
export async function reportCommand(id: string | undefined, opts: ReportOptions): Promise<void> {
  const runIds = opts.runs === undefined ? [] : list('runs', opts.runs);
  const trajFiles = opts.traj === undefined ? [] : list('traj', opts.traj);
  if (id === undefined && !runIds.length && !trajFiles.length) throw new UsageError('give a run or benchmark id, --runs <ids> or --traj <files>');
  for (const runId of id === undefined ? runIds : [id, ...runIds]) if (!isId(runId)) throw new UsageError(`expected a run or benchmark id (${ID_EXPECTED}), got "${runId}"`);

  const store = new ArtifactStore();
  const runs: ReportRun[] = [];
  const links: { label: string; url: string }[] = [];
  let kind: 'run' | 'benchmark' | 'runs' = 'runs';
  if (id !== undefined && (await hasRun(store, id))) {
    runs.push(await storeRun(store, id));
    kind = 'run';
  } else if (id !== undefined) {
    runs.push(...(await benchmarkReportRuns(store, id)));
    links.push({ label: 'the benchmark in the Temporal Web UI', url: uiLink(id) });
    kind = 'benchmark';
  }
  for (const runId of runIds) {
    if (!(await hasRun(store, runId))) throw new UsageError(`no run "${runId}" in ${store.location}`);
    runs.push(await storeRun(store, runId));
  }
  for (const file of trajFiles) runs.push(runFromTraj(file));
  if (runs.length > 1 && kind === 'run') kind = 'runs';

  const all = withUniqueIds(restrictToProtocol(restrictToBuild(runs, opts.build), opts.protocol));
  const title = opts.title ?? (kind === 'benchmark' ? `Benchmark ${id}` : all.length === 1 ? `Run ${all[0]!.id}` : `${all.length} runs`);
  const { html, summary } = buildReport({ title, links, runs: all, generatedAt: new Date() });
  const out = resolve(opts.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);

  const profiles = summary.profiles;
  const aup = profiles && all.length > 1 ? { tauMax: profiles.tauMax, bestAttempt: profiles.bestAttempt.aup, bestSubmission: profiles.bestSubmission.aup } : null;
  if (opts.json) {
    const ranks = aup && { bestAttempt: profiles!.bestAttempt.ranks, bestSubmission: profiles!.bestSubmission.ranks };
    return printJson({ out, kind, runs: all.map((r) => r.id), tasks: summary.tasks, models: summary.models, unscored: summary.unscored, aup, ranks, builds: summary.builds, protocols: summary.protocols });
  }
  say(`wrote ${out}: ${all.length} run(s), ${summary.tasks.length} task(s), ${summary.models.length} model(s)`);
  if (aup) sayAupVariants(aup);
  for (const u of summary.unscored) say(`not scored: ${u.task} (${u.why})`);
}
