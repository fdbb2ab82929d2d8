import { existsSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { loadScoresInput, type ScoresInput } from '../lib/scoring/input.js';
import { profilePlotSvg } from '../lib/scoring/plots.js';
import { svgToPng } from '../lib/scoring/png.js';
import type { Aup } from '../lib/bench/types.js';
import { computeProfiles, defaultTauMax, type ProfileResult } from '../lib/scoring/profiles.js';
import { printJson, say, UsageError } from './output.js';

export interface AupOptions {
  tauMax?: string;
  plot?: string;
  json?: boolean;
}

/**
 * `--tau-max`: T itself, or the scores file of the other variant (best attempt / best submission of the
 * same runs), whose worst ratios then count too, as MLGym takes T over both variants.
 */
function parseTauMax(value: string, input: ScoresInput): number {
  const n = Number(value);
  if (value.trim() !== '' && Number.isFinite(n)) {
    if (!(n > 0)) throw new UsageError(`--tau-max expects a positive number, got "${value}"`);
    return n;
  }
  if (!existsSync(value)) throw new UsageError(`--tau-max expects a positive number, or the scores file of the other variant, got "${value}"`);
  return defaultTauMax(input, loadScoresInput(value));
}

function plotFormat(file: string): 'svg' | 'png' {
  const ext = extname(file).toLowerCase();
  if (ext === '.svg' || ext === '.png') return ext.slice(1) as 'svg' | 'png';
  throw new UsageError(`--plot expects a file ending in .svg or .png, got "${file}"`);
}

/**
 * `mlgym aup <scores.json>`: performance profiles, AUP and mean ranks of every method. With
 * `--tau-max <other variant's scores.json>` T spans both variants, so the two AUPs compare.
 */
export async function aupCommand(file: string, opts: AupOptions): Promise<void> {
  const format = opts.plot === undefined ? undefined : plotFormat(opts.plot);
  const input = loadScoresInput(file);
  const tauMax = opts.tauMax === undefined ? undefined : parseTauMax(opts.tauMax, input);
  const result = computeProfiles(input, { tauMax });
  if (opts.plot) {
    const svg = profilePlotSvg(result);
    writeFileSync(opts.plot, format === 'png' ? await svgToPng(svg) : svg);
  }
  const plot = opts.plot === undefined ? {} : { plot: resolve(opts.plot) };
  if (opts.json) return printJson({ aup: result.aup, tauMax: result.tauMax, ranks: result.ranks, ratios: result.ratios, ...plot });
  sayAupTable(result);
  say(`τ max ${result.tauMax} over ${Object.keys(input.tasks).length} task(s)${opts.plot ? `; plot: ${opts.plot}` : ''}`);
}

/** Methods by AUP, best first (ties in their order). */
function byAup(aup: Record<string, number>, methods: readonly string[] = Object.keys(aup)): string[] {
  return [...methods].sort((a, b) => aup[b]! - aup[a]!);
}

/** The human table of one profile: every method's AUP and mean rank, best AUP first. */
export function sayAupTable(result: Pick<ProfileResult, 'methods' | 'aup' | 'ranks'>): void {
  const methods = byAup(result.aup, result.methods);
  const width = Math.max(6, ...methods.map((m) => m.length));
  say(`${'method'.padEnd(width)}  ${'AUP'.padStart(6)}  mean rank`);
  for (const m of methods) say(`${m.padEnd(width)}  ${result.aup[m]!.toFixed(3).padStart(6)}  ${result.ranks[m]!.toFixed(2).padStart(9)}`);
}

/** MLGym's two AUPs of a benchmark or report (best attempt, best submission): one line each, best first. */
export function sayAupVariants(aup: Aup): void {
  for (const variant of ['bestAttempt', 'bestSubmission'] as const) {
    const line = byAup(aup[variant]).map((m) => `${m} ${aup[variant][m]!.toFixed(3)}`).join(', ');
    say(`AUP (${variant === 'bestAttempt' ? 'best attempt' : 'best submission'}, T = ${aup.tauMax}): ${line}`);
  }
}
