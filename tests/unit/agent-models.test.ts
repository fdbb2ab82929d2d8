import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelSpecError, registryFile, resolveAgentSpec } from '../../lib/agent/models.js';
import { ConfigError, loadModelRegistry } from '../../lib/config/load.js';

describe('model specs', () => {
  const baseUrl = process.env.OPENAI_BASE_URL;
  afterEach(() => {
    if (baseUrl === undefined) delete process.env.OPENAI_BASE_URL;
    else process.env.OPENAI_BASE_URL = baseUrl;
  });

  it('the checked-in registry is valid and has OpenAI and local entries', () => {
    const ids = loadModelRegistry(registryFile).models.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-4o-mini', 'qwen2.5-coder-32b-vllm']));
  });

  it('resolves baseline, a registry id and replay files', () => {
    expect(resolveAgentSpec('baseline')).toEqual({ kind: 'baseline' });
    const spec = resolveAgentSpec('gpt-4o-mini');
    expect(spec).toMatchObject({ kind: 'llm', entry: { model: 'gpt-4o-mini-2024-07-18', price_input_per_mtok: 0.15, api_key_env: 'OPENAI_API_KEY' } });
    const file = join(mkdtempSync(join(tmpdir(), 'replay-')), 'actions.yaml');
    writeFileSync(file, '- ls\n');
    expect(resolveAgentSpec(`replay:${file}`)).toEqual({ kind: 'replay', file });
  });

  it('resolves openai:<model> from the environment, free and without tool calling unless told', () => {
    process.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/v1';
    const spec = resolveAgentSpec('openai:meta-llama/Llama-3.1-8B-Instruct');
    expect(spec).toEqual({
      kind: 'llm',
      entry: expect.objectContaining({
        model: 'meta-llama/Llama-3.1-8B-Instruct',
        base_url: 'http://127.0.0.1:9/v1',
        api_key_env: 'OPENAI_API_KEY',
        price_input_per_mtok: 0,
        price_output_per_mtok: 0,
        tool_calling: false,
      }),
    });
    const priced = resolveAgentSpec('openai:gpt-x?price_input_per_mtok=3&price_output_per_mtok=15&tool_calling=true&max_output_tokens=1000');
    expect(priced).toMatchObject({ entry: { price_input_per_mtok: 3, price_output_per_mtok: 15, tool_calling: true, max_output_tokens: 1000 } });
  });

  it('says what exists when a spec names nothing', () => {
    expect(() => resolveAgentSpec('gpt-5-turbo')).toThrow(ModelSpecError);
    expect(() => resolveAgentSpec('gpt-5-turbo')).toThrow(/unknown model "gpt-5-turbo".*replay:<file>.*gpt-4o, gpt-4o-tools, gpt-4o-mini/);
    expect(() => resolveAgentSpec('replay:no/such/file.traj')).toThrow(/replay file "no\/such\/file.traj" not found/);
    expect(() => resolveAgentSpec('replay:')).toThrow(ModelSpecError);
    expect(() => resolveAgentSpec('openai:')).toThrow(/expects a model name/);
    expect(() => resolveAgentSpec('openai:m?price_in=3')).toThrow(/unknown field\(s\) price_in/);
    expect(() => resolveAgentSpec('openai:m?context_window=big')).toThrow(/context_window/);
  });

  it('reports a broken registry as a config error', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'registry-')), 'registry.yaml');
    writeFileSync(file, 'models:\n  - id: x\n    model: m\n');
    expect(() => resolveAgentSpec('x', file)).toThrow(ConfigError);
  });
});
