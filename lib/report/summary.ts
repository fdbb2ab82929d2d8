import { computeVariantProfiles, type ProfileResult } from '../scoring/profiles.js';
import { scoresFromRuns, type TaskScoring, type VariantScores } from '../scoring/runs.js';
import { actionCategory, exitCategories, type ActionCategory, type ExitCategory } from './categories.js';
import { buildCounts } from './builds.js';
import { protocolCounts } from './protocols.js';
import type { ReportRun, Usage } from './run.js';

/** Runs, spend, exits and actions of one model (or of all runs). */
export interface GroupSummary {
  runs: number;
  costUsd: number;
  usage: Usage;
  exits: Partial<Record<ExitCategory, number>>;
  /** Every raw exit status and how many runs ended with it. */
  exitStatuses: Record<string, number>;
  actions: Partial<Record<ActionCategory, number>>;
}

export interface ReportSummary {
  /** In order of first appearance. */
  tasks: string[];
  models: string[];
  /** The tasks that can be scored: a known primary metric, direction and baseline score. */
  scoring: Record<string, TaskScoring>;
  unscored: { task: string; why: string }[];
  /** Per task × method the best-attempt and best-submission scores (absent without a scorable task). */
  scores?: VariantScores;
  profiles?: { tauMax: number; bestAttempt: ProfileResult; bestSubmission: ProfileResult };
  byModel: Record<string, GroupSummary>;
  all: GroupSummary;
  /** Runs per build label (lib/report/builds.ts): more than one means the runs mix versions of the code. */
  builds: Record<string, number>;
  /** Runs per protocol label (lib/report/protocols.ts): more than one means some agents saw their test score and some did not. */
  protocols: Record<string, number>;
}

function taskScoring(runs: ReportRun[]): TaskScoring | string {
  const withMetric = runs.find((r) => r.primaryMetric !== undefined && r.direction !== undefined);
  if (!withMetric) return 'its primary metric and direction are unknown (not one of our tasks nor of MLGym-Bench)';
  const baseline = runs.find((r) => r.baseline !== undefined)?.baseline;
  if (baseline === undefined) return `no baseline score for ${withMetric.primaryMetric}`;
  return { primaryMetric: withMetric.primaryMetric!, direction: withMetric.direction!, baseline };
}

function add<K extends string>(counts: Partial<Record<K, number>>, key: K, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

function groupSummary(runs: ReportRun[]): GroupSummary {
  const group: GroupSummary = { runs: runs.length, costUsd: 0, usage: { tokensSent: 0, tokensReceived: 0, apiCalls: 0 }, exits: {}, exitStatuses: {}, actions: {} };
  for (const run of runs) {
    group.costUsd += run.costUsd;
    group.usage.tokensSent += run.usage.tokensSent;
    group.usage.tokensReceived += run.usage.tokensReceived;
    group.usage.apiCalls += run.usage.apiCalls;
    for (const category of exitCategories(run.exitStatus)) add(group.exits, category);
    add(group.exitStatuses, run.exitStatus);
    for (const step of run.steps) if (step.action) add(group.actions, actionCategory(step.action));
  }
  return group;
}

const unique = (values: string[]) => [...new Set(values)];

/** Scores, performance profiles (both of MLGym's variants on one τ scale), spend, exits and actions of the runs. */
export function summarize(runs: ReportRun[]): ReportSummary {
  const tasks = unique(runs.map((r) => r.task));
  const models = unique(runs.map((r) => r.model));
  const scoring: Record<string, TaskScoring> = {};
  const unscored: ReportSummary['unscored'] = [];
  for (const task of tasks) {
    const result = taskScoring(runs.filter((r) => r.task === task));
    if (typeof result === 'string') unscored.push({ task, why: result });
    else scoring[task] = result;
  }
  const byModel = Object.fromEntries(models.map((m) => [m, groupSummary(runs.filter((r) => r.model === m))]));
  const summary: ReportSummary = { tasks, models, scoring, unscored, byModel, all: groupSummary(runs), builds: buildCounts(runs), protocols: protocolCounts(runs) };
  if (Object.keys(scoring).length === 0) return summary;
  const scores = scoresFromRuns(runs.filter((r) => r.task in scoring), scoring);
  return { ...summary, scores, profiles: computeVariantProfiles({ bestAttempt: scores.bestAttempt, bestSubmission: scores.bestSubmission }) };
}
