import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadReplay } from '../../lib/agent/replay.js';
import { loadSuite } from '../../lib/bench/suite.js';
import { ConfigError, loadConfig, loadConfigFile, readConfigFile, validateConfig } from '../../lib/config/load.js';
import { readTraj } from '../../lib/interop/traj.js';
import { loadScoresInput } from '../../lib/scoring/input.js';

const dir = mkdtempSync(join(tmpdir(), 'mlgym-load-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError a call throws, as its file and "path: message" lines. */
function problems(load: () => unknown): { file: string; lines: string[] } {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toContain(e.file);
    return { file: e.file, lines: e.problems.map((p) => `${p.path}: ${p.message}`) };
  }
  throw new Error('loaded without errors');
}

const Schema = z.strictObject({ name: z.string().min(2), count: z.number().int() });

describe('the config pipeline (lib/config/load.ts): read, parse, validate', () => {
  it('reads YAML (and so JSON) or strict JSON', () => {
    expect(readConfigFile(file('a.yaml', 'name: x\ncount: 2\n'))).toEqual({ name: 'x', count: 2 });
    expect(readConfigFile(file('a.json', '{"name": "x"}'), { format: 'json' })).toEqual({ name: 'x' });
  });

  it('names the file when it is missing or does not parse, with the line for YAML', () => {
    const missing = join(dir, 'nope.yaml');
    expect(problems(() => readConfigFile(missing))).toEqual({ file: missing, lines: [': file not found'] });
    const yaml = file('bad.yaml', 'name: x\ncount: [1\n');
    expect(problems(() => readConfigFile(yaml)).lines).toEqual([expect.stringMatching(/^: expected valid YAML \(line \d+\): /)]);
    const json = file('bad.json', '{"name": ');
    expect(problems(() => readConfigFile(json, { format: 'json' })).lines).toEqual([expect.stringMatching(/^: expected valid JSON: /)]);
    expect(problems(() => readConfigFile(json, { format: 'json', expected: 'a thing (JSON)' })).lines).toEqual([expect.stringMatching(/^: expected a thing \(JSON\): /)]);
  });

  it('names each bad field, what was expected and what was there', () => {
    const bad = file('fields.yaml', 'name: x\ncount: 1.5\ncolour: blue\n');
    expect(problems(() => loadConfigFile(bad, Schema)).lines).toEqual([
      expect.stringMatching(/^name: Too small: .* \(got "x"\)$/),
      expect.stringMatching(/^count: expected int, received number \(got 1.5\)$/),
      ': unknown field(s) "colour"',
    ]);
    expect(problems(() => validateConfig(Schema, { name: 'ok' }, 'inline')).lines).toEqual(['count: expected number, received undefined (got nothing)']);
    expect(loadConfigFile(file('good.yaml', 'name: ok\ncount: 3\n'), Schema)).toEqual({ name: 'ok', count: 3 });
  });

  it('converts the parsed data before validating it when asked', () => {
    const f = file('convert.yaml', 'name: ok\n');
    expect(loadConfigFile(f, Schema, { convert: (d) => ({ ...(d as object), count: 7 }) })).toEqual({ name: 'ok', count: 7 });
  });

  it('is what tasks, suites, scores, trajectories and replay files go through', () => {
    const missing = join(dir, 'missing');
    for (const load of [() => loadConfig('task', missing), () => loadSuite(missing), () => loadScoresInput(missing), () => readTraj(missing), () => loadReplay(missing)]) {
      expect(problems(load)).toEqual({ file: missing, lines: [': file not found'] });
    }
    const notJson = file('x.traj', 'not json');
    expect(problems(() => readTraj(notJson)).lines).toEqual([expect.stringMatching(/^: expected an MLGym trajectory \(JSON\): /)]);
    expect(problems(() => loadScoresInput(notJson)).lines).toEqual([expect.stringMatching(/^: expected valid JSON: /)]);
    const badYaml = file('x.yaml', 'a: [1\n');
    expect(problems(() => loadSuite(badYaml)).lines).toEqual([expect.stringMatching(/^: expected valid YAML \(line \d+\)/)]);
    expect(problems(() => loadReplay(badYaml)).lines).toEqual([expect.stringMatching(/^: expected a YAML or JSON replay file \(line \d+\)/)]);
  });
});
