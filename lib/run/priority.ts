// Temporal priorities of runs (priority key 1 = first, the server's default 3). Children inherit their
// parent's, so a benchmark's runs have the benchmark's.
import type { Priority } from '@temporalio/common';

/** A run someone started by hand (`mlgym run`): its tasks are dispatched before backlogged benchmark and scheduled-suite runs. */
export const INTERACTIVE_PRIORITY: Priority = { priorityKey: 2 };
