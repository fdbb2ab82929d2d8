import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ModelSpecError, resolveAgentSpec } from '../agent/models.js';
import { checkTaskData, ConfigError, loadConfigFile, loadTask } from '../config/load.js';
import { DataVariant, idString } from '../config/schema.js';
import { DEFAULT_PROTOCOL, PROTOCOLS } from '../run/protocol.js';
import { GPU_TASK_QUEUE } from '../temporal/client.js';
import { datasetsDir, taskFile } from '../home.js';
import type { BenchSpec } from './types.js';

const name = idString();

function unique(field: string) {
  return (items: string[], ctx: z.RefinementCtx) => {
    items.forEach((item, i) => {
      if (items.indexOf(item) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${item}" is listed twice in ${field}` });
    });
  };
}

/** A benchmark suite: what to run, how much of it at once, and what counts as noise when comparing runs. */
export const SuiteConfig = z
  .strictObject({
    name,
    tasks: z.array(name).min(1, 'expected at least one task').superRefine(unique('tasks')),
    models: z.array(z.string().min(1, 'expected a model spec')).min(1, 'expected at least one model').superRefine(unique('models')),
    seeds: z.number().int().min(1).default(1),
    max_steps: z.number().int().min(1).default(50),
    concurrency: z.number().int().min(1).default(4),
    /** Dollar budget per run. */
    budget_usd: z.number().nonnegative().optional(),
    /** Dollar budget of the whole benchmark, shared by its runs. */
    total_budget_usd: z.number().nonnegative().optional(),
    /** Noise band per task on its primary metric (default: 3 × the task's baseline_noise, else 1%). */
    noise: z.record(z.string(), z.number().nonnegative()).default({}),
    /** `fixture` runs every task on its small generated data, without GPUs. */
    data: DataVariant.default('real'),
    /** `mlgym`: every run's validate shows the test score, as in MLGym's paper (lib/run/protocol.ts). */
    protocol: z.enum(PROTOCOLS).default(DEFAULT_PROTOCOL),
    /** Seconds a run's container work waits for its host before the run moves to another (default 300). */
    host_timeout_s: z.number().int().min(1).optional(),
  })
  .superRefine((suite, ctx) => {
    for (const task of Object.keys(suite.noise)) {
      if (!suite.tasks.includes(task)) ctx.addIssue({ code: 'custom', path: ['noise', task], message: `expected one of the suite's tasks (${suite.tasks.join(', ')})` });
    }
  });
export type SuiteConfig = z.infer<typeof SuiteConfig>;

type Problem = { path: string; message: string };

/** Why a task id names no task, if it does not. */
function taskProblem(taskId: string): string | undefined {
  return existsSync(taskFile(taskId)) ? undefined : `unknown task "${taskId}" (no ${taskFile(taskId)})`;
}

/** Why the task cannot run on this data (a broken config, data not prepared), if it cannot. */
function taskDataProblem(taskId: string, data: DataVariant | undefined): string | undefined {
  try {
    checkTaskData(loadTask(taskFile(taskId), datasetsDir, { data }));
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

/** The model spec, a `replay:` file made absolute (looked for beside `baseDir` first), or why it names no agent. */
function resolveModel(spec: string, baseDir: string): { model: string } | { problem: string } {
  const beside = spec.startsWith('replay:') ? resolve(baseDir, spec.slice('replay:'.length)) : undefined;
  try {
    const agent = resolveAgentSpec(beside && existsSync(beside) ? `replay:${beside}` : spec);
    return { model: agent.kind === 'replay' ? `replay:${agent.file}` : spec };
  } catch (err) {
    if (err instanceof ModelSpecError || err instanceof ConfigError) return { problem: err.message };
    throw err;
  }
}

/** Check a spec's tasks and models (replay files relative to `baseDir`); the problems name `tasks[i]` and `models[i]`. */
export function checkSpec(spec: BenchSpec, baseDir: string): { spec: BenchSpec; problems: Problem[] } {
  const problems: Problem[] = [];
  const gpus: Record<string, number> = {};
  spec.tasks.forEach((task, i) => {
    const problem = taskProblem(task) ?? taskDataProblem(task, spec.data);
    if (problem) problems.push({ path: `tasks[${i}]`, message: problem });
    else {
      const needed = loadTask(taskFile(task), datasetsDir, { data: spec.data }).resources.gpus;
      if (needed > 0) gpus[task] = needed;
    }
  });
  const models = spec.models.map((model, i) => {
    const resolved = resolveModel(model, baseDir);
    if ('problem' in resolved) problems.push({ path: `models[${i}]`, message: resolved.problem });
    return 'model' in resolved ? resolved.model : model;
  });
  const routing = Object.keys(gpus).length ? { gpus, gpuTaskQueue: GPU_TASK_QUEUE } : {};
  return { spec: { ...spec, models, ...routing }, problems };
}

/** Read a suite YAML into a benchmark spec; a ConfigError names the file and each bad field. */
export function loadSuite(file: string): BenchSpec {
  const suite = loadConfigFile(file, SuiteConfig);
  const { spec, problems } = checkSpec(
    { suite: suite.name, tasks: suite.tasks, models: suite.models, seeds: suite.seeds, maxSteps: suite.max_steps, concurrency: suite.concurrency, budgetUsd: suite.budget_usd, totalBudgetUsd: suite.total_budget_usd, noise: suite.noise, data: suite.data, ...(suite.host_timeout_s ? { hostTimeoutS: suite.host_timeout_s } : {}), ...(suite.protocol === DEFAULT_PROTOCOL ? {} : { protocol: suite.protocol }) },
    dirname(resolve(file)),
  );
  if (problems.length) throw new ConfigError(file, problems);
  return spec;
}
