import { ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { TASK_QUEUE } from '../temporal/client.js';
import type { BenchSpec } from './types.js';

/** When a suite runs: a cron expression or a fixed interval (`30m`, `12h`, `1d`). */
export type Timing = { cron: string } | { every: Duration };

/** The default schedule id of a suite. */
export function scheduleIdOf(suite: string): string {
  return `suite-${suite}`;
}

/**
 * A Schedule that starts the suite's benchmark. The suite travels in the workflow's arguments, so each
 * benchmark is self-contained; Temporal appends the scheduled time to the workflow id, which becomes the
 * benchmark's id. A benchmark still running when the next one is due makes the schedule skip that one.
 */
export function benchmarkSchedule(spec: BenchSpec & { suite: string }, timing: Timing, opts: { scheduleId?: string; taskQueue?: string } = {}): ScheduleOptions {
  return {
    scheduleId: opts.scheduleId ?? scheduleIdOf(spec.suite),
    spec: 'cron' in timing ? { cronExpressions: [timing.cron] } : { intervals: [{ every: timing.every }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'benchmark',
      workflowId: `bench-${spec.suite}`,
      args: [{ ...spec, scheduled: true }],
      taskQueue: opts.taskQueue ?? TASK_QUEUE,
      staticSummary: `suite ${spec.suite}: ${spec.tasks.length} task(s) × ${spec.models.length} model(s) × ${spec.seeds} seed(s)`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    memo: { suite: spec.suite },
  };
}
