import { z } from 'zod';
import { loadConfigFile } from '../config/load.js';
import type { Metrics } from '../run/types.js';

/** The name MLGym's agent goes by in a trajectory's history (its first agent). */
export const MLGYM_AGENT_NAME = 'primary_0';

const TrajStep = z.object({
  action: z.string(),
  observation: z.string().nullable().default(''),
  response: z.string().nullable().default(''),
  /** JSON of the shell state before the step: {"open_file": …, "working_dir": …}. */
  state: z.string().nullable().default(''),
  thought: z.string().nullable().default(''),
  execution_time: z.number().default(0),
});

const HistoryItem = z.looseObject({
  role: z.string(),
  content: z.unknown(),
  agent: z.string().optional(),
  thought: z.string().optional(),
  action: z.string().optional(),
  is_demo: z.boolean().optional(),
});

const ModelStats = z.object({
  total_cost: z.number().default(0),
  task_cost: z.number().default(0),
  tokens_sent: z.number().default(0),
  tokens_received: z.number().default(0),
  api_calls: z.number().default(0),
});

/** MLGym's `<task>.traj`; fields MLGym may add (summarizer, …) are kept as they are. */
export const MlgymTraj = z.looseObject({
  environment: z.string().default(''),
  trajectory: z.array(TrajStep),
  history: z.array(HistoryItem).default([]),
  info: z
    .looseObject({
      model_stats: ModelStats.optional(),
      exit_status: z.string().nullable().optional(),
      submission: z.string().nullable().optional(),
      /** The metrics of every validate and submit that produced a score, in order. */
      score: z.array(z.record(z.string(), z.unknown())).optional(),
    })
    .default({}),
});
export type MlgymTraj = z.output<typeof MlgymTraj>;
export type MlgymTrajStep = z.output<typeof TrajStep>;
export type MlgymHistoryItem = z.output<typeof HistoryItem>;

/** MLGym's results.json: the agent's scores in order and the task's baseline. */
export interface MlgymResults {
  agent: Metrics[];
  baseline: Metrics;
}

/** The numeric entries of a score record (MLGym's evaluation scripts may print other values too). */
export function numericMetrics(record: Record<string, unknown>): Metrics {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}

/** Read and check a .traj file; a ConfigError names the file and the bad fields. */
export function readTraj(file: string): MlgymTraj {
  return loadConfigFile(file, MlgymTraj, { format: 'json', expected: 'an MLGym trajectory (JSON)' });
}
