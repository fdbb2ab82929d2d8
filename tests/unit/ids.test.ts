import { describe, expect, it } from 'vitest';
import { TaskConfig, DatasetConfig, ModelEntry } from '../../lib/config/schema.js';
import { ID_EXPECTED, isId, modelInId, newBenchId, newRunId, toId, toModelId } from '../../lib/run/ids.js';

describe('ids (lib/run/ids.ts)', () => {
  it('allows letters, digits, "_", "." and "-" only', () => {
    for (const id of ['prisonersDilemma', 'run-blotto-baseline-0-a1b2c3', 'bench-smoke-1a2b3c', 'v1.2_x']) expect(isId(id)).toBe(true);
    for (const id of ['', 'has space', '../etc', 'a/b', 'openai:gpt-4o', 'bench-2025-01-02T03:00:00Z']) expect(isId(id)).toBe(false);
  });

  it('makes text into an id, and a model spec into a model id', () => {
    expect(toId('run.d/with spaces:and?more')).toBe('run.d_with_spaces_and_more');
    expect(isId(toId('any thing / at all'))).toBe(true);
    expect(toModelId('gpt-4o?x=1')).toBe('gpt-4o_x_1');
    expect(toModelId('a:b')).toBe('a:b');
    expect(modelInId('replay:/some/dir/agent.yaml')).toBe('replay:agent.yaml');
    expect(modelInId('openai:gpt-4o')).toBe('openai:gpt-4o');
  });

  it('makes new run and benchmark ids that are ids', () => {
    const runId = newRunId('prisonersDilemma', 'replay:/tmp/x/my agent.yaml', 3);
    expect(runId).toMatch(/^run-prisonersDilemma-replay_my_agent.yaml-3-[0-9a-f]{6}$/);
    expect(newRunId('t', 'baseline', 0)).not.toBe(newRunId('t', 'baseline', 0));
    expect(newRunId('t', 'm'.repeat(80), 0)).toMatch(new RegExp(`^run-t-${'m'.repeat(40)}-0-[0-9a-f]{6}$`));
    expect(newBenchId('smoke')).toMatch(/^bench-smoke-[0-9a-f]{6}$/);
    expect(newBenchId(undefined)).toMatch(/^bench-[0-9a-f]{6}$/);
    for (const id of [runId, newBenchId('smoke')]) expect(isId(id)).toBe(true);
  });

  it('is the rule of the config schemas', () => {
    const taskId = TaskConfig.safeParse({ id: 'bad id' });
    expect(taskId.success).toBe(false);
    expect(taskId.error!.issues.find((i) => i.path[0] === 'id')!.message).toBe(`expected ${ID_EXPECTED}`);
    const dataset = DatasetConfig.safeParse({ name: 'bad/name', data_path: 'x' });
    expect(dataset.error!.issues.find((i) => i.path[0] === 'name')!.message).toBe(`expected ${ID_EXPECTED} (it names data/<name>/)`);
    const model = ModelEntry.safeParse({ id: 'openai:gpt 4o' });
    expect(model.error!.issues.find((i) => i.path[0] === 'id')!.message).toBe('expected letters, digits, "_", ".", ":" or "-"');
  });
});
