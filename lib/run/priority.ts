// Temporal priorities of runs (priority key 1 = first, the server's default 3; docs/deploy.md, "Priorities").
import type { Priority } from '@temporalio/common';

/** A run someone started by hand (`mlgym run`): its tasks are dispatched before backlogged benchmark and scheduled-suite runs. */
export const INTERACTIVE_PRIORITY: Priority = { priorityKey: 2 };

/** Temporal's limit on a fairness key, in bytes: benchmark ids are ASCII (lib/run/ids.ts), one byte a character. */
const FAIRNESS_KEY_BYTES = 64;

/**
 * A benchmark's runs: after interactive runs, and a scheduled suite's after both. Each benchmark is its own fairness
 * key, so two benchmarks backlogged on one queue share its workers rather than the older one starving the other.
 */
export function benchmarkRunPriority(benchId: string, scheduled: boolean): Priority {
  return { priorityKey: scheduled ? 4 : 3, fairnessKey: benchId.slice(0, FAIRNESS_KEY_BYTES) };
}
