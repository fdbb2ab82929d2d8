import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../../lib/bench/suite.js';
import { ConfigError } from '../../lib/config/load.js';
import { repoRoot } from '../../lib/home.js';

const dir = mkdtempSync(join(tmpdir(), 'mlgym-suite-'));

function suiteFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The problems of a suite that fails to load, as "path: message". */
function problems(file: string): string[] {
  try {
    loadSuite(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(file);
    expect((err as Error).message).toContain(file);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error(`${file} loaded without errors`);
}

describe('suite files', () => {
  it('loads the shipped suite into a benchmark spec', () => {
    const spec = loadSuite(join(repoRoot, 'suites', 'smoke.yaml'));
    expect(spec).toEqual({ suite: 'smoke', tasks: ['prisonersDilemma'], models: ['baseline'], seeds: 2, maxSteps: 20, concurrency: 2, budgetUsd: 0, noise: { prisonersDilemma: 0.03 }, data: 'real' });
  });

  it('fills in defaults and resolves a replay file next to the suite', () => {
    writeFileSync(join(dir, 'agent.yaml'), '- submit\n');
    const spec = loadSuite(suiteFile('defaults.yaml', 'name: d\ntasks: [prisonersDilemma]\nmodels: ["replay:agent.yaml"]\n'));
    expect(spec).toMatchObject({ seeds: 1, maxSteps: 50, concurrency: 4, noise: {}, models: [`replay:${join(dir, 'agent.yaml')}`] });
    expect(spec.budgetUsd).toBeUndefined();
  });

  it('names each bad field', () => {
    const file = suiteFile('bad.yaml', ['name: "has space"', 'tasks: []', 'models: [baseline, baseline]', 'seeds: 0', 'concurrency: 1.5', 'budget_usd: -1', 'colour: blue'].join('\n'));
    expect(problems(file)).toEqual([
      expect.stringMatching(/^name: expected letters, digits/),
      // Like every config file's (lib/config/load.ts), a suite's problems say what was there.
      'tasks: expected at least one task (got [])',
      'models[1]: "baseline" is listed twice in models',
      expect.stringMatching(/^seeds: Too small/),
      expect.stringMatching(/^concurrency: expected int/),
      expect.stringMatching(/^budget_usd: Too small/),
      ': unknown field(s) "colour"',
    ]);
  });

  it('rejects unknown tasks, unusable models and noise for a task not in the suite', () => {
    const file = suiteFile('refs.yaml', 'name: r\ntasks: [prisonersDilemma, noSuchTask]\nmodels: [baseline, "replay:missing.yaml"]\nnoise: { otherTask: 0.1 }\n');
    expect(problems(file)).toEqual(['noise.otherTask: expected one of the suite\'s tasks (prisonersDilemma, noSuchTask)']);
    const fixed = suiteFile('refs2.yaml', 'name: r\ntasks: [prisonersDilemma, noSuchTask]\nmodels: [baseline, "replay:missing.yaml"]\n');
    expect(problems(fixed)).toEqual([expect.stringMatching(/^tasks\[1\]: unknown task "noSuchTask"/), expect.stringMatching(/^models\[1\]: replay file "missing.yaml" not found/)]);
  });

  it('reports a missing file and broken YAML', () => {
    expect(problems(join(dir, 'nope.yaml'))).toEqual([': file not found']);
    expect(problems(suiteFile('broken.yaml', 'name: [unclosed\n'))).toEqual([expect.stringMatching(/^: expected valid YAML/)]);
  });
});
