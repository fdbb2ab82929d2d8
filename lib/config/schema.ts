import { z } from 'zod';
import { ID_EXPECTED, ID_PATTERN, MODEL_ID_EXPECTED, MODEL_ID_PATTERN } from '../run/ids.js';

const relPath = z.string().min(1, 'expected a non-empty path');
const metricName = z.string().min(1);

/** An id (lib/run/ids.ts); `why` says what it names. */
export function idString(why = ''): z.ZodString {
  return z.string().regex(ID_PATTERN, `expected ${ID_EXPECTED}${why}`);
}

export const Direction = z.enum(['max', 'min']);
export type Direction = z.infer<typeof Direction>;

export const TaskEntrypoint = z.enum([
  'CSVSubmissionTasks',
  'ModelSubmissionTasks',
  'LMSubmissionTasks',
  'PythonSubmissionTasks',
]);

export const Resources = z
  .strictObject({
    memory_mb: z.number().int().min(64).default(2048),
    cpus: z.number().positive().max(64).default(1),
    pids: z.number().int().min(16).default(512),
    gpus: z.number().int().min(0).default(0),
    /** The workspace's disk quota in GB, beside the task's own data (default 20; lib/sandbox/quota.ts). */
    disk_gb: z.number().positive().max(100_000).optional(),
  })
  .default({ memory_mb: 2048, cpus: 1, pids: 512, gpus: 0 });

const SplitSecrets = z.record(z.string(), z.union([z.string(), z.number()])).default({});

/** A task: MLGym's TaskConfig fields (same names) plus metric, direction, baseline noise and sandbox policy. */
export const TaskConfig = z
  .strictObject({
    // MLGym fields
    id: idString(),
    name: z.string().min(1),
    description: z.string().min(1),
    dataset_configs: z.array(relPath).default([]),
    task_entrypoint: TaskEntrypoint.default('CSVSubmissionTasks'),
    training_timeout: z.number().int().positive().nullable().default(3600).transform((t) => t ?? 3600),
    /** Seconds for commands that run no long-running program (see lib/tools/timeouts.ts). */
    command_timeout: z.number().int().positive().default(120),
    use_generic_conda: z.boolean().default(true),
    requirements_path: relPath.optional(),
    /** Requirements for a run given GPUs, in place of requirements_path (e.g. CUDA builds of JAX). */
    gpu_requirements_path: relPath.optional(),
    starter_code: z.array(relPath).default([]),
    baseline_paths: z.array(relPath).default([]),
    baseline_scores: z.array(z.record(metricName, z.number())).default([]),
    sample_submission: relPath.optional(),
    evaluation_paths: z.array(relPath).min(1, 'expected at least one evaluation script'),
    evaluation_read_only: z.boolean().default(true),
    memory_path: relPath.optional(),
    /** MLGym's memory_enabled (an environment argument there): the memory tools, with notes kept per task across runs. */
    memory_enabled: z.boolean().default(false),
    secret_files: z.array(relPath).optional(),
    benchmark_name: z.string().optional(),
    // Durable MLGym additions
    metrics: z
      .array(
        z.strictObject({
          name: metricName,
          direction: Direction,
          /** The value depends on the host (CPU or wall time): comparable only between runs on one kind of machine. */
          machine_dependent: z.boolean().optional(),
        }),
      )
      .min(1, 'expected at least one metric with its direction'),
    primary_metric: metricName,
    baseline_noise: z.record(metricName, z.number().nonnegative()).default({}),
    /** The baseline's scores on the fixture data (`--data fixture`), where the task has one. */
    fixture_baseline_scores: z.array(z.record(metricName, z.number())).default([]),
    fixture_baseline_noise: z.record(metricName, z.number().nonnegative()).default({}),
    baseline_command: z.string().min(1).optional(),
    submission_artifact: relPath.optional(),
    private_files: z.array(relPath).default([]),
    validate_shows: z.enum(['validation', 'test']).default('validation'),
    /**
     * Values one split's evaluation needs and nothing else may see (seeds, expected answers): passed to
     * that split's evaluation only, as JSON in MLGYM_SECRETS, never written into any container.
     */
    split_secrets: z
      .strictObject({ validation: SplitSecrets, test: SplitSecrets })
      .default({ validation: {}, test: {} }),
    network: z.enum(['none', 'bridge']).default('none'),
    resources: Resources,
    apt_packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian package name')).default([]),
  })
  .superRefine((task, ctx) => {
    const names = task.metrics.map((m) => m.name);
    if (!names.includes(task.primary_metric)) {
      ctx.addIssue({
        code: 'custom',
        path: ['primary_metric'],
        message: `expected one of the metrics' names (${names.join(', ')}), got "${task.primary_metric}"`,
      });
    }
    for (const field of ['baseline_scores', 'fixture_baseline_scores'] as const) {
      task[field].forEach((scores, i) => {
        for (const key of Object.keys(scores)) {
          if (!names.includes(key)) {
            ctx.addIssue({ code: 'custom', path: [field, i, key], message: `expected a declared metric (${names.join(', ')})` });
          }
        }
      });
    }
  });
export type TaskConfig = z.infer<typeof TaskConfig>;

const Split = z.strictObject({ name: z.string(), file_regex: z.string().optional() });

/** The two data variants of a dataset: the real data, or its small generated fixture (`--data fixture`). */
export const DataVariant = z.enum(['real', 'fixture']);
export type DataVariant = z.infer<typeof DataVariant>;

/**
 * A dataset: MLGym's DatasetConfig; `local_path` is the prepared copy the workspace gets. Paths are
 * relative to the dataset's YAML file.
 */
export const DatasetConfig = z.strictObject({
  name: idString(' (it names data/<name>/)'),
  description: z.string().default(''),
  data_path: relPath,
  is_local: z.boolean().default(false),
  local_path: relPath.optional(),
  /** Files only the grader gets (hidden answers), copied next to the evaluation script. */
  private_path: relPath.optional(),
  /** Script that fetches the real data (data_path) and writes local_path and private_path: `python3 <prepare> OUT PRIVATE`. */
  prepare: relPath.optional(),
  /** A small generated stand-in with the same layout, for smoke tests and machines without the real data. */
  fixture: z
    .strictObject({
      /** `python3 <generator> OUT PRIVATE`, run in the mlgym-base image by scripts/prepare-data.sh. */
      generator: relPath,
      local_path: relPath,
      private_path: relPath.optional(),
    })
    .optional(),
  train_split: Split.optional(),
  valid_split: Split.optional(),
  test_split: Split.optional(),
});
export type DatasetConfig = z.infer<typeof DatasetConfig>;

export const ModelEntry = z.strictObject({
  id: z.string().regex(MODEL_ID_PATTERN, `expected ${MODEL_ID_EXPECTED}`),
  base_url: z.url().optional(),
  api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').default('OPENAI_API_KEY'),
  model: z.string().min(1),
  price_input_per_mtok: z.number().nonnegative(),
  price_output_per_mtok: z.number().nonnegative(),
  context_window: z.number().int().positive(),
  max_output_tokens: z.number().int().positive(),
  tool_calling: z.boolean().default(false),
  extra_params: z.record(z.string(), z.unknown()).default({}),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const ModelRegistry = z.strictObject({ models: z.array(ModelEntry).min(1) });
export type ModelRegistry = z.infer<typeof ModelRegistry>;

export const schemas = { task: TaskConfig, dataset: DatasetConfig, models: ModelRegistry } as const;
export type ConfigKind = keyof typeof schemas;
