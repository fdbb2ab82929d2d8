import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Direction } from '../config/schema.js';
import { taskFile } from '../home.js';
import { knownTaskMetrics } from '../interop/mlgymTasks.js';
import { isId } from '../run/ids.js';
import type { Metrics } from '../run/types.js';
import { primaryMetricOf } from '../scoring/direction.js';

/** What scoring and export need to know of a task when a run's own records do not say it. */
export interface TaskFacts {
  primaryMetric: string;
  direction: Direction;
  baseline?: Metrics;
  /** The submission artifact, relative to the workspace. */
  artifact?: string;
}

/** The task's config if it is one of ours and valid, else MLGym's table of its 13 tasks (no baseline there). */
export function taskFacts(taskId: string): TaskFacts | undefined {
  const file = isId(taskId) ? taskFile(taskId) : undefined;
  if (file && existsSync(file)) {
    try {
      const task = loadConfig('task', file);
      const { name: primaryMetric, direction } = primaryMetricOf(task);
      return { primaryMetric, direction, baseline: task.baseline_scores[0], artifact: task.submission_artifact };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
  }
  const known = knownTaskMetrics(taskId);
  return known && { primaryMetric: known.primary.name, direction: known.primary.direction };
}
