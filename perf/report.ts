import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConcurrencyLevel } from './concurrency.js';
import type { HistoryResult } from './history.js';
import type { OverheadResult } from './overhead.js';
import type { ProvisioningResult } from './provisioning.js';
import type { RecoveryKill } from './recovery.js';
import { median, round } from './stats.js';

export interface BenchResults {
  date: string;
  machine: { cpus: number; cpuModel?: string; memoryGb: number; node: string; loadavg: Record<string, number[]> };
  targets: { maxDurableVsExec: number; concurrentRuns: number; maxWorkerMbPerRun: number; resumeSlackS: number };
  /** A section is missing when the run measured only some (`--only`). */
  overhead?: OverheadResult;
  provisioning?: ProvisioningResult;
  concurrency?: ConcurrencyLevel[];
  recovery?: { heartbeatTimeoutS: number; kills: RecoveryKill[] };
  history?: HistoryResult;
  elapsedS: number;
}

/** The server's default history lengths: where it suggests continue-as-new, where it terminates the workflow. */
const SUGGEST_CAN_EVENTS = 4096;
const HARD_LIMIT_EVENTS = 51_200;

const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const ok = (pass: boolean) => (pass ? '**met**' : '**not met**');
const s = (ms: number, decimals = 1) => round(ms / 1000, decimals);

function overheadSection(o: OverheadResult, { targets }: BenchResults): string {
  const [durable, session, exec] = [o.durable, o.session, o.exec].map(median) as [number, number, number];
  const b = o.breakdown;
  return [
    `## 1. Per-step overhead (${o.runs} runs × ${o.steps} trivial commands, median)`,
    table(
      ['path', 'steps/s', 'ms/step', 'durable ms/step ÷ this', 'runs (steps/s)'],
      [
        ['durable: workflow → agentTurn → toolExec', round(durable), round(1000 / durable), 1, o.durable.map((v) => round(v)).join(', ')],
        ['in-container session (runInSession over its stream)', round(session), round(1000 / session), round(session / durable), o.session.map((v) => round(v)).join(', ')],
        ...(o.sessionOneShot
          ? [['in-container session, one docker exec per command (the fallback)', round(median(o.sessionOneShot)), round(1000 / median(o.sessionOneShot)), round(median(o.sessionOneShot) / durable), o.sessionOneShot.map((v) => round(v)).join(', ')]]
          : []),
        ['bare docker exec (execIn `bash -c`)', round(exec), round(1000 / exec), round(exec / durable), o.exec.map((v) => round(v)).join(', ')],
      ],
    ),
    '',
    `Where a durable step's time goes (median ms, server clock): agentTurn queued ${round(b.turnQueueMs)} + ran ${round(b.turnRunMs)}, ` +
      `toolExec queued ${round(b.execQueueMs)} + ran ${round(b.execRunMs)}, workflow tasks and scheduling ${round(b.workflowMs)} ` +
      `(of ${round(b.stepMs)}; ${round(o.workflowTasksPerStep)} workflow tasks per step). ` +
      `CPU per durable step: worker ${round(o.workerCpuMsPerStep)} ms, dev server ${round(o.serverCpuMsPerStep)} ms.`,
    '',
    `Target durable ≤ ${targets.maxDurableVsExec}× bare exec: ${round(exec / durable)}× → ${ok(exec / durable <= targets.maxDurableVsExec)}. ` +
      `For reference, durable ÷ session round trip over its stream: ${round(session / durable)}×` +
      (o.sessionOneShot ? `; ÷ session with one exec per command: ${round(median(o.sessionOneShot) / durable)}×.` : '.'),
  ].join('\n');
}

function provisioningSection(p: ProvisioningResult): string {
  return [
    '## 2. Provisioning',
    table(
      ['what', 'seconds'],
      [
        [`provision activity, task image cached (median of ${p.provisionMs.length})`, s(median(p.provisionMs), 2)],
        ['teardown: remove container and volume (median)', s(median(p.teardownMs), 2)],
        ['task image build, changed context (new requirements line; base layers cached)', s(p.buildColdMs, 2)],
        ['task image, cached (content hash found)', s(p.buildCachedMs, 2)],
      ],
    ),
  ].join('\n');
}

function concurrencySection(concurrency: ConcurrencyLevel[], { targets }: BenchResults): string {
  const rows = concurrency.map((c) => [
    c.runs, c.stepsPerRun, round(c.stepsPerS), s(c.wallMs), c.failedRuns, c.activityRetries,
    round(c.workerCpuMsPerStep, 0), round(c.serverCpuMsPerStep, 0), round(c.workerIdleMb, 0), round(c.workerPeakMb, 0), round((c.workerPeakMb - c.workerIdleMb) / c.runs, 1), c.containers, round(c.containerMeanMb, 1),
  ]);
  const top = concurrency.find((c) => c.runs === targets.concurrentRuns);
  const perRun = Math.max(...concurrency.map((c) => (c.workerPeakMb - c.workerIdleMb) / c.runs));
  return [
    '## 3. Concurrency (each level on a fresh worker process, idle baseline after one warm-up run)',
    table(['runs', 'steps each', 'steps/s (all runs)', 'wall s', 'failed runs', 'activity retries', 'worker CPU ms/step', 'server CPU ms/step', 'worker idle MB', 'worker peak MB', 'worker MB/run', 'containers sampled', 'MB/container'], rows),
    '',
    `Target ${targets.concurrentRuns} concurrent runs with no errors: ${ok(!!top && top.failedRuns === 0 && top.activityRetries === 0)}; ` +
      `worker ≤ ${targets.maxWorkerMbPerRun} MB per run (worst level ${round(perRun, 1)} MB): ${ok(perRun <= targets.maxWorkerMbPerRun)}.`,
  ].join('\n');
}

function recoverySection(recovery: NonNullable<BenchResults['recovery']>, { targets }: BenchResults): string {
  const limit = recovery.heartbeatTimeoutS + targets.resumeSlackS;
  const rows = recovery.kills.map((k, i) => [i + 1, k.atStep, k.inFlight, s(k.recoveryMs), s(k.workerStartMs), ok(k.recoveryMs <= limit * 1000)]);
  return [
    `## 4. Recovery after a worker SIGKILL (heartbeat timeout ${recovery.heartbeatTimeoutS} s, worker restarted at once)`,
    table(['kill', 'commands done', 'in flight', 'kill → next command done (s)', 'worker start (s)', `≤ ${limit} s`], rows),
  ].join('\n');
}

function historySection(h: HistoryResult): string {
  const rows = h.executions.map((e, i) => [i + 1, e.steps, e.events, round(e.jsonBytes / 1024, 1), round(e.protoBytes / 1024, 1), round(e.events / e.steps, 1), round(e.jsonBytes / e.steps, 0)]);
  const steady = h.executions[1] ?? h.executions[0]!;
  const perStep = steady.events / steady.steps;
  return [
    `## 5. History (one run of ${h.steps} commands, continueEvery ${h.continueEvery})`,
    table(['execution', 'steps', 'events', 'JSON KB', 'proto KB', 'events/step', 'JSON bytes/step'], rows),
    '',
    `${h.executions.length} executions: a new one every ${h.continueEvery} steps (the first also provisions, the last scores and tears down). ` +
      `At ${round(perStep, 1)} events and ${round(steady.protoBytes / steady.steps / 1024, 1)} KB (protobuf) per step, without continueEvery the server would suggest ` +
      `continue-as-new (${SUGGEST_CAN_EVENTS} events) after ~${Math.floor(SUGGEST_CAN_EVENTS / perStep)} steps and terminate the run (${HARD_LIMIT_EVENTS} events) after ~${Math.floor(HARD_LIMIT_EVENTS / perStep)}.`,
  ].join('\n');
}

const section = (title: string, body: string | undefined) => body ?? `## ${title}\n\nNot measured in this run (\`--only\`).`;

export function renderMarkdown(r: BenchResults): string {
  const load = Object.entries(r.machine.loadavg).map(([at, l]) => `${at} ${l.map((v) => round(v)).join('/')}`).join('; ');
  return [
    `# Durable MLGym bench — ${r.date}`,
    '',
    `Machine: ${r.machine.cpus} cores${r.machine.cpuModel ? ` (${r.machine.cpuModel})` : ''}, ${r.machine.memoryGb} GB, Node ${r.machine.node}; load average (1/5/15 min) ${load}. ` +
      `Embedded dev server (SQLite), one worker process, task prisonersDilemma, replay agent. Total ${round(r.elapsedS / 60, 1)} min.`,
    '',
    section('1. Per-step overhead', r.overhead && overheadSection(r.overhead, r)),
    '',
    section('2. Provisioning', r.provisioning && provisioningSection(r.provisioning)),
    '',
    section('3. Concurrency', r.concurrency && concurrencySection(r.concurrency, r)),
    '',
    section('4. Recovery', r.recovery && recoverySection(r.recovery, r)),
    '',
    section('5. History', r.history && historySection(r.history)),
    '',
  ].join('\n');
}

/** latest.md and latest.json, plus a dated copy of each; a partial run (`--only`) writes only its dated copy, marked partial. */
export function writeResults(r: BenchResults, dir: string, partial = false): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = r.date.replace(/:/g, '-').slice(0, 16);
  const files: string[] = [];
  for (const name of partial ? [`${stamp}-partial`] : ['latest', stamp]) {
    files.push(join(dir, `${name}.md`), join(dir, `${name}.json`));
    writeFileSync(join(dir, `${name}.md`), renderMarkdown(r));
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(r, null, 2) + '\n');
  }
  return files;
}
