import type { Command } from 'commander';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { benchmarkSchedule, type Timing } from '../lib/bench/schedule.js';
import { loadSuite } from '../lib/bench/suite.js';
import { connect } from './connect.js';
import { printJson, say, UsageError } from './output.js';

const INTERVAL = /^\d+(ms|s|m|h|d|w)$/;

interface CreateOptions {
  cron?: string;
  every?: string;
  id?: string;
  json?: boolean;
}

function timingOf(opts: CreateOptions): Timing {
  if ((opts.cron === undefined) === (opts.every === undefined)) throw new UsageError('give exactly one of --cron <expr> or --every <duration>');
  if (opts.cron !== undefined) return { cron: opts.cron };
  if (!INTERVAL.test(opts.every!)) throw new UsageError(`--every expects a number and a unit (ms, s, m, h, d, w), e.g. 12h or 1d; got "${opts.every}"`);
  return { every: opts.every as Duration };
}

/** Run `fn` with a client, closing it after; an unknown schedule id is bad input. */
async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const { client } = await connect();
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new UsageError(`no schedule "${err.scheduleId}" (see \`mlgym schedule list\`)`);
    throw err;
  } finally {
    await client.connection.close();
  }
}

/** `mlgym schedule create <suite.yaml> --cron <expr> | --every <duration>`: a Temporal Schedule that benchmarks the suite. */
export async function scheduleCreate(suiteFile: string, opts: CreateOptions): Promise<void> {
  const timing = timingOf(opts);
  const spec = loadSuite(suiteFile);
  const options = benchmarkSchedule({ ...spec, suite: spec.suite! }, timing, { scheduleId: opts.id });
  const next = await withClient(async (client) => {
    try {
      const handle = await client.schedule.create(options);
      return (await handle.describe()).info.nextActionTimes[0] ?? null;
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) throw new UsageError(`schedule "${options.scheduleId}" exists: delete it first or pass --id`);
      // The client reports a spec the server rejects (e.g. a malformed cron expression) as a TypeError.
      if (err instanceof TypeError) throw new UsageError(`invalid schedule: ${err.message}`);
      throw err;
    }
  });
  if (opts.json) printJson({ scheduleId: options.scheduleId, suite: spec.suite, timing, nextRun: next });
  say(`created schedule ${options.scheduleId} for suite ${spec.suite}; next run ${next?.toISOString() ?? 'none'}. The benchmarks need a worker: \`mlgym worker\``);
}

/** `mlgym schedule list`: the benchmark schedules, their next run and their latest benchmarks. */
export async function scheduleList(opts: { json?: boolean }): Promise<void> {
  const rows = await withClient(async (client) => {
    const out = [];
    for await (const s of client.schedule.list()) {
      if (s.action?.workflowType !== 'benchmark') continue;
      out.push({
        scheduleId: s.scheduleId,
        suite: (s.memo?.suite as string | undefined) ?? null,
        paused: s.state.paused,
        nextRun: s.info.nextActionTimes[0] ?? null,
        recentBenchmarks: s.info.recentActions.map((a) => a.action.workflow.workflowId),
      });
    }
    return out;
  });
  if (opts.json) return printJson({ schedules: rows });
  if (!rows.length) say('no benchmark schedules');
  for (const r of rows) say(`${r.scheduleId}  suite ${r.suite}${r.paused ? '  (paused)' : ''}  next ${r.nextRun?.toISOString() ?? '-'}  latest ${r.recentBenchmarks.at(-1) ?? '-'}`);
}

export async function scheduleDelete(scheduleId: string): Promise<void> {
  await withClient((client) => client.schedule.getHandle(scheduleId).delete());
  say(`deleted schedule ${scheduleId}`);
}

/** `mlgym schedule trigger <id>`: start the suite's benchmark now. */
export async function scheduleTrigger(scheduleId: string): Promise<void> {
  await withClient((client) => client.schedule.getHandle(scheduleId).trigger());
  say(`triggered schedule ${scheduleId}; \`mlgym schedule list\` shows the benchmark it started`);
}

/** The `schedule` subcommands, added to `mlgym schedule`. */
export function addScheduleCommands(schedule: Command): void {
  schedule
    .command('create <suite>')
    .description('benchmark a suite YAML on a Temporal Schedule')
    .option('--cron <expr>', 'cron expression, e.g. "0 3 * * *"')
    .option('--every <duration>', 'interval, e.g. 12h or 1d')
    .option('--id <scheduleId>', 'schedule id (default suite-<name>)')
    .option('--json', 'print JSON on stdout')
    .action((file, o) => scheduleCreate(file, o));
  schedule.command('list').description('list the benchmark schedules').option('--json', 'print JSON on stdout').action((o) => scheduleList(o));
  schedule.command('delete <id>').description('delete a schedule').action((id) => scheduleDelete(id));
  schedule.command('trigger <id>').description("start a schedule's benchmark now").action((id) => scheduleTrigger(id));
}
