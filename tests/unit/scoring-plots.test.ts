import { describe, expect, it } from 'vitest';
import { profilePlotSvg, scoreOverStepsSvg } from '../../lib/scoring/plots.js';
import { svgToPng } from '../../lib/scoring/png.js';
import { computeProfiles } from '../../lib/scoring/profiles.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const result = computeProfiles({
  tasks: {
    house: { direction: 'max', baseline: 0.6, scores: { 'gpt-4o': 0.9, 'a<b&c': 0.5 } },
    loss: { direction: 'min', baseline: 4, scores: { 'gpt-4o': 3, 'a<b&c': 2 } },
  },
});

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

describe('profile plot', () => {
  const svg = profilePlotSvg(result, { title: 'Best attempt' });

  it('draws one step path per method and a legend with each AUP', () => {
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(count(svg, /<path /g)).toBe(3);
    expect(count(svg, /<path class="profile"/g)).toBe(3);
    expect(svg).toContain('data-method="gpt-4o"');
    expect(svg).toContain(`gpt-4o (AUP ${result.aup['gpt-4o']!.toFixed(3)})`);
    expect(svg).toContain(`baseline (AUP ${result.aup.baseline!.toFixed(3)})`);
    expect(svg).toContain('a&#60;b&#38;c (AUP');
    expect(svg).not.toContain('a<b');
    expect(count(svg, /class="legend-entry"/g)).toBe(3);
    expect(svg).toContain('Best attempt');
  });

  it('steps along the grid: only horizontal and vertical moves', () => {
    for (const d of svg.matchAll(/class="profile"[^>]* d="([^"]+)"/g)) expect(d[1]).toMatch(/^M[\d.]+ [\d.]+( [HV][\d.]+)+$/);
  });

  it('renders to a PNG', async () => {
    const png = await svgToPng(svg);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(png.length).toBeGreaterThan(1000);
    // IHDR width and height: the SVG's at scale 2
    expect(png.readUInt32BE(16)).toBe(2 * Number(svg.match(/ width="(\d+)"/)![1]));
    expect(png.readUInt32BE(20)).toBe(2 * Number(svg.match(/ height="(\d+)"/)![1]));
  });

  it('gives the legend room for many methods and long names', () => {
    const scores = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`m${i}`, i]));
    const many = profilePlotSvg(computeProfiles({ tasks: { t: { direction: 'max', baseline: 1, scores } } }));
    expect(Number(many.match(/ height="(\d+)"/)![1])).toBeGreaterThanOrEqual(40 + 56 + 31 * 20);
    const long = profilePlotSvg(computeProfiles({ tasks: { t: { direction: 'max', baseline: 1, scores: { ['x'.repeat(60)]: 2 } } } }));
    expect(Number(long.match(/ width="(\d+)"/)![1])).toBeGreaterThan(Number(svg.match(/ width="(\d+)"/)![1]) + 200);
  });
});

describe('score-over-steps plot', () => {
  const attempts = [
    { step: 3, kind: 'validate' as const, metrics: { Score: 2.1 } },
    { step: 7, kind: 'validate' as const },
    { step: 12, kind: 'validate' as const, metrics: { Score: 2.5 } },
    { step: 20, kind: 'submit' as const, metrics: { Score: 2.48 } },
  ];

  it('marks each attempt, joins the scored ones and draws the baseline dashed', async () => {
    const svg = scoreOverStepsSvg({ attempts, primaryMetric: 'Score', baseline: 2.3716 });
    expect(count(svg, /<g class="attempt">/g)).toBe(3);
    expect(count(svg, /<g class="attempt failed">/g)).toBe(1);
    expect(svg).toContain('step 20 submit: 2.48');
    expect(svg).toContain('step 7 validate: no score');
    expect(count(svg, /<path class="score-line" d="M[^"]*L[^"]*L[^"]*"/g)).toBe(1);
    expect(svg).toMatch(/<line class="baseline"[^>]*stroke-dasharray=/);
    expect(svg).toContain('baseline (2.3716)');
    expect((await svgToPng(svg)).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('draws a run without scores or baseline', async () => {
    const svg = scoreOverStepsSvg({ attempts: [{ step: 0, kind: 'submit' }], primaryMetric: 'acc' });
    expect(svg).not.toContain('class="baseline"');
    expect(svg).not.toContain('score-line');
    expect((await svgToPng(svg)).length).toBeGreaterThan(0);
  });
});
