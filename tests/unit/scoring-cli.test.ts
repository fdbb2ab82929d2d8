import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/home.js';
import { mlgym } from '../helpers/cli.js';


const dir = mkdtempSync(join(tmpdir(), 'mlgym-aup-'));

function scoresFile(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

// house: A 1, baseline 0.9/0.6 = 1.5 = r^w, B (below the baseline) 1.575.
// blotto: the baseline is negative; B 0.4 best, A 0.4/0.2 = 2 = r^w, baseline 2.1. T: ceil(2.1) = 3 → 0.5.
const scores = scoresFile('scores.json', {
  tasks: {
    house: { direction: 'max', baseline: 0.6, scores: { A: 0.9, B: 0.5 } },
    blotto: { direction: 'max', baseline: -0.25, scores: { A: 0.2, B: 0.4 } },
  },
});

describe('mlgym aup', () => {
  it('prints AUP, T, ranks and ratios as JSON', async () => {
    const r = await mlgym({}, 'aup', scores, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['aup', 'tauMax', 'ranks', 'ratios']);
    expect(out.tauMax).toBe(0.5);
    expect(out.ratios.house.A).toBe(1);
    expect(out.ratios.house.baseline).toBeCloseTo(1.5, 12);
    expect(out.ratios.house.B).toBeCloseTo(1.575, 12);
    expect(out.ratios.blotto).toEqual({ A: 2, B: 1, baseline: 2.1 });
    // A: log10 1 = 0 and log10 2 = 0.30103 → first i = ceil(998 × 0.30103) = 301:
    // (0.5/499)(499 + 198)/2 = 0.349198…
    expect(out.aup.A).toBeCloseTo(((0.5 / 499) * (499 + 198)) / 2, 12);
    expect(out.ranks).toEqual({ A: 1.5, B: 2, baseline: 2.5 });
  });

  it('prints a table on stderr without --json and honours --tau-max', async () => {
    const r = await mlgym({}, 'aup', scores, '--tau-max', '1.5');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^method\s+AUP\s+mean rank$/m);
    expect(r.stderr).toMatch(/^A\s+\d\.\d{3}\s+1\.50$/m);
    expect(r.stderr).toContain('τ max 1.5 over 2 task(s)');
    expect(JSON.parse((await mlgym({}, 'aup', scores, '--tau-max', '1.5', '--json')).stdout).tauMax).toBe(1.5);
  });

  it('writes the profile plot as SVG or PNG', async () => {
    const svg = join(dir, 'profiles.svg');
    const png = join(dir, 'profiles.png');
    expect((await mlgym({}, 'aup', scores, '--plot', svg)).status).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg /);
    const r = await mlgym({}, 'aup', scores, '--plot', png, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).plot).toBe(png);
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('exits 2 naming the bad field', async () => {
    const bad = scoresFile('bad.json', { tasks: { house: { direction: 'up', baseline: 0.6, scores: { A: 'high' } } } });
    const r = await mlgym({}, 'aup', bad, '--json');
    expect(r.status).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.file).toBe(bad);
    expect(out.problems.map((p: { path: string }) => p.path)).toEqual(['tasks.house.direction', 'tasks.house.scores.A']);
    expect(r.stderr).toContain('tasks.house.direction');
  });

  it("takes T from the other variant's scores file with --tau-max <file>, so both variants share one scale", async () => {
    // The other variant: the baseline 0.1 against a best of 0.9 → r^w = 9 → ceil(9.45) = 10 → T = log10 10 = 1.
    const other = scoresFile('other.json', { tasks: { house: { direction: 'max', baseline: 0.1, scores: { A: 0.12, B: 0.9 } } } });
    const alone = JSON.parse((await mlgym({}, 'aup', scores, '--json')).stdout);
    const shared = await mlgym({}, 'aup', scores, '--tau-max', other, '--json');
    expect(shared.status, shared.stderr).toBe(0);
    expect(alone.tauMax).toBe(0.5);
    expect(JSON.parse(shared.stdout).tauMax).toBe(1);
    expect(JSON.parse((await mlgym({}, 'aup', other, '--tau-max', scores, '--json')).stdout).tauMax).toBe(1);
    const missing = await mlgym({}, 'aup', scores, '--tau-max', join(dir, 'nope.json'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--tau-max expects a positive number, or the scores file of the other variant');
  });

  it('exits 2 for a missing file, bad JSON and bad flags', async () => {
    const missing = await mlgym({}, 'aup', join(dir, 'nope.json'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('file not found');
    const notJson = await mlgym({}, 'aup', scoresFile('broken.json', '{"tasks": '));
    expect(notJson.status).toBe(2);
    expect(notJson.stderr).toContain('expected valid JSON');
    expect((await mlgym({}, 'aup', scores, '--tau-max', 'zero')).stderr).toContain('--tau-max expects a positive number');
    expect((await mlgym({}, 'aup', scores, '--tau-max', '0')).status).toBe(2);
    expect((await mlgym({}, 'aup', scores, '--plot', join(dir, 'plot.jpg'))).status).toBe(2);
  });
});
