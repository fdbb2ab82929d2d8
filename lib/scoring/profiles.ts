import type { ScoresInput } from './input.js';
import { meanRanks } from './ranks.js';
import { EPSILON, methodsOf, taskRatios } from './ratios.js';

/** Points of the τ grid (MLGym's linspace(0, T, 500)). */
export const TAU_POINTS = 500;

export interface ProfileOptions {
  /** T, the end of the τ grid in log10 units; default `defaultTauMax(input)`. */
  tauMax?: number;
}

export interface ProfileResult {
  /** Methods in order of first appearance, then `baseline`. */
  methods: string[];
  tauMax: number;
  /** τ_i, log10 units. */
  tau: number[];
  /** ρ_m(τ_i): the fraction of tasks whose log10 ratio is <= τ_i. */
  profiles: Record<string, number[]>;
  /** Area under the profile, at most `tauMax`. */
  aup: Record<string, number>;
  /** Performance ratio per task, then per method. */
  ratios: Record<string, Record<string, number>>;
  /** Mean rank of the ratio over tasks (1 = best; ties averaged). */
  ranks: Record<string, number>;
}

/**
 * MLGym's T: log10 of the largest ceil(r^w × (1 + ε)) over every task of every input, rounded up to
 * 0.1. Pass both variants (best attempt, best submission) to plot them on one scale.
 */
export function defaultTauMax(...inputs: ScoresInput[]): number {
  let largest = 1;
  for (const input of inputs) {
    const methods = methodsOf(input);
    for (const task of Object.values(input.tasks)) {
      largest = Math.max(largest, Math.ceil(taskRatios(task, methods).worstRatio * (1 + EPSILON)));
    }
  }
  return Math.ceil(Math.log10(largest) * 10) / 10;
}

export function tauGrid(tauMax: number, points = TAU_POINTS): number[] {
  return Array.from({ length: points }, (_, i) => (tauMax * i) / (points - 1));
}

/** ρ(τ_i) for one method: the fraction of its per-task log10 ratios that are <= τ_i. */
export function profileCurve(logRatios: readonly number[], tau: readonly number[]): number[] {
  return tau.map((t) => logRatios.filter((r) => r <= t).length / logRatios.length);
}

/** Left-step area: Σ (τ_{i+1} − τ_i) ρ(τ_i). */
export function areaUnderProfile(tau: readonly number[], rho: readonly number[]): number {
  let area = 0;
  for (let i = 0; i + 1 < tau.length; i++) area += (tau[i + 1]! - tau[i]!) * rho[i]!;
  return area;
}

/** Performance profiles, AUP and mean ranks of every method (the baseline included) over the tasks. */
export function computeProfiles(input: ScoresInput, opts: ProfileOptions = {}): ProfileResult {
  if (Object.keys(input.tasks).length === 0) throw new RangeError('no tasks to score');
  const tauMax = opts.tauMax ?? defaultTauMax(input);
  if (!(tauMax > 0 && Number.isFinite(tauMax))) throw new RangeError(`tauMax must be a positive number, got ${tauMax}`);
  const methods = methodsOf(input);
  const ratios = Object.fromEntries(Object.entries(input.tasks).map(([id, task]) => [id, taskRatios(task, methods).ratios]));
  const tau = tauGrid(tauMax);
  const profiles: Record<string, number[]> = {};
  const aup: Record<string, number> = {};
  for (const method of methods) {
    profiles[method] = profileCurve(Object.values(ratios).map((byMethod) => Math.log10(byMethod[method]!)), tau);
    aup[method] = areaUnderProfile(tau, profiles[method]);
  }
  return { methods, tauMax, tau, profiles, aup, ratios, ranks: meanRanks(ratios, methods) };
}

/** Profiles of several variants of the same runs (e.g. best attempt and best submission) on one shared T. */
export function computeVariantProfiles<V extends string>(variants: Record<V, ScoresInput>, opts: ProfileOptions = {}): { tauMax: number } & Record<V, ProfileResult> {
  const tauMax = opts.tauMax ?? defaultTauMax(...Object.values<ScoresInput>(variants));
  const results = Object.fromEntries(Object.entries<ScoresInput>(variants).map(([name, input]) => [name, computeProfiles(input, { tauMax })]));
  return { tauMax, ...(results as Record<V, ProfileResult>) };
}
