import { describe, expect, it } from 'vitest';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { runStartOptions } from '../../lib/run/start.js';
import { runStartTimeouts } from '../../lib/run/timeouts.js';
import type { RunInput } from '../../lib/run/types.js';

const input: RunInput = { runId: 'run-blotto-baseline-1-abcdef', taskId: 'blotto', model: 'baseline', seed: 1, maxSteps: 10, keep: false, continueEvery: 100 };
const attributes = (options: ReturnType<typeof runStartOptions>) => Object.fromEntries(options.typedSearchAttributes.map((p) => [p.key.name, p.value]));

describe("a run's start options (lib/run/start.ts), the same for `mlgym run`, the tests and a benchmark's child runs", () => {
  it('start the run under its id, on the given queue, with the run timeouts and its one-success id policy', () => {
    const options = runStartOptions(input, 'mlgym');
    expect(options).toMatchObject({ workflowId: input.runId, taskQueue: 'mlgym', args: [input], workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY });
    expect(options).toMatchObject(runStartTimeouts(input));
    expect(runStartOptions({ ...input, heartbeatTimeoutS: 2 }).workflowTaskTimeout).toBe('2s');
    expect(runStartOptions(input).workflowTaskTimeout).toBe('10s');
  });

  it('leave a child run without a queue on its parent\'s', () => {
    expect('taskQueue' in runStartOptions(input)).toBe(false);
    expect('taskQueue' in runStartOptions(input, undefined)).toBe(false);
  });

  it('set the search attributes, the benchmark id for a benchmark run', () => {
    expect(attributes(runStartOptions(input, 'q'))).toEqual({ MlgymTask: 'blotto', MlgymModel: 'baseline', MlgymStatus: 'starting' });
    expect(attributes(runStartOptions({ ...input, benchId: 'bench-1' }))).toEqual({ MlgymTask: 'blotto', MlgymModel: 'baseline', MlgymStatus: 'starting', MlgymBenchId: 'bench-1' });
  });

  it('summarize task, data, model, seed, GPUs and benchmark', () => {
    expect(runStartOptions(input).staticSummary).toBe('blotto · baseline · seed 1');
    expect(runStartOptions({ ...input, data: 'fixture', gpus: 2, benchId: 'bench-1' }).staticSummary).toBe('blotto (fixture data) · baseline · seed 1 · 2 GPU(s) · bench-1');
    expect(runStartOptions({ ...input, data: 'real', gpus: 0 }).staticSummary).toBe('blotto · baseline · seed 1');
  });
});
