import type { Attempt } from '../run/types.js';
import type { ProfileResult } from './profiles.js';
import { axes, DASHES, escapeXml, formatTick, frame, LEGEND_LINE, legend, niceStep, PALETTE, px, svgDocument, ticks, type Axis, type Frame, type LegendEntry } from './svg.js';

const PLOT_WIDTH = 466;
const MIN_HEIGHT = 460;
const MARGIN = { left: 64, top: 40, bottom: 56 };

/** The plot box and, to its right, room for every legend line (about 7 px a character). */
function frameFor(entries: readonly LegendEntry[], xAxis: Axis, yAxis: Axis): Frame {
  const right = Math.max(230, 46 + 7 * Math.max(...entries.map((e) => e.label.length)));
  const height = Math.max(MIN_HEIGHT, MARGIN.top + MARGIN.bottom + entries.length * LEGEND_LINE);
  return frame(MARGIN.left + PLOT_WIDTH + right, height, { ...MARGIN, right }, xAxis, yAxis);
}

function lineSample(color: string, dash: string): string {
  return `<line x1="0" y1="6" x2="24" y2="6" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

/** The left-step curve through (τ_i, ρ_i): ρ_i holds until τ_{i+1}. */
function stepPath(f: Frame, tau: readonly number[], rho: readonly number[]): string {
  const d = [`M${px(f.x(tau[0]!))} ${px(f.y(rho[0]!))}`];
  for (let i = 1; i < tau.length; i++) {
    if (rho[i] !== rho[i - 1]) d.push(`H${px(f.x(tau[i]!))}`, `V${px(f.y(rho[i]!))}`);
  }
  d.push(`H${px(f.x(tau.at(-1)!))}`);
  return d.join(' ');
}

/** Performance profiles ρ_m(τ), one step line per method; the legend lists methods by AUP. */
export function profilePlotSvg(result: Pick<ProfileResult, 'methods' | 'tau' | 'profiles' | 'aup' | 'tauMax'>, opts: { title?: string } = {}): string {
  // Later curves are dashed, so where curves coincide the ones beneath show through the gaps.
  const style = (i: number) => ({ color: PALETTE[i % PALETTE.length]!, dash: DASHES[i % DASHES.length]! });
  const xAxis: Axis = { min: 0, max: result.tauMax, ticks: ticks(0, result.tauMax, niceStep(0, result.tauMax, 6)), label: 'τ (log10 of the performance ratio)' };
  const yAxis: Axis = { min: 0, max: 1, ticks: ticks(0, 1, 0.2), label: 'ρ(τ): fraction of tasks' };
  const byAup = result.methods.map((method, i) => ({ method, i })).sort((a, b) => result.aup[b.method]! - result.aup[a.method]!);
  const entries: LegendEntry[] = byAup.map(({ method, i }) => ({ label: `${method} (AUP ${result.aup[method]!.toFixed(3)})`, sample: lineSample(style(i).color, style(i).dash) }));
  const f = frameFor(entries, xAxis, yAxis);
  const curves = result.methods.map((method, i) => {
    const { color, dash } = style(i);
    return `<path class="profile" data-method="${escapeXml(method)}" d="${stepPath(f, result.tau, result.profiles[method]!)}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  });
  return svgDocument(f.width, f.height, [axes(f, xAxis, yAxis, opts.title ?? 'Performance profiles'), ...curves, legend(f, entries)].join('\n'));
}

export interface StepsPlotInput {
  attempts: readonly Pick<Attempt, 'step' | 'kind' | 'metrics'>[];
  primaryMetric: string;
  baseline?: number;
  title?: string;
}

const VALIDATE_COLOR = '#0072B2';
const SUBMIT_COLOR = '#D55E00';
const FAILED_COLOR = '#B00020';

function marker(kind: Attempt['kind'] | 'failed', x: number, y: number): string {
  if (kind === 'validate') return `<circle cx="${x}" cy="${y}" r="4" fill="${VALIDATE_COLOR}"/>`;
  if (kind === 'submit') return `<path d="M${x} ${px(y - 6)} L${px(x + 6)} ${y} L${x} ${px(y + 6)} L${px(x - 6)} ${y} Z" fill="${SUBMIT_COLOR}"/>`;
  return `<path d="M${px(x - 4)} ${px(y - 4)} L${px(x + 4)} ${px(y + 4)} M${px(x - 4)} ${px(y + 4)} L${px(x + 4)} ${px(y - 4)}" stroke="${FAILED_COLOR}" stroke-width="2"/>`;
}

/** A value axis over the values with a 5% margin, widened to whole ticks (and around a single value). */
function valueAxis(values: readonly number[], label: string): Axis {
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (lo === hi) [lo, hi] = [lo - (Math.abs(lo) * 0.1 || 1), hi + (Math.abs(hi) * 0.1 || 1)];
  [lo, hi] = [lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05];
  const step = niceStep(lo, hi, 5);
  const [min, max] = [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
  return { min, max, ticks: ticks(min, max, step), label };
}

/**
 * A run's primary metric at each validate and submit attempt (line through the scored ones), the
 * baseline as a dashed line, and failed attempts (no score) as crosses on the bottom edge.
 */
export function scoreOverStepsSvg(input: StepsPlotInput): string {
  const attempts = [...input.attempts].sort((a, b) => a.step - b.step);
  const scoreOf = (a: (typeof attempts)[number]) => a.metrics?.[input.primaryMetric];
  const scored = attempts.filter((a) => Number.isFinite(scoreOf(a)));
  const failed = attempts.filter((a) => !Number.isFinite(scoreOf(a)));
  const lastStep = Math.max(1, ...attempts.map((a) => a.step));
  const xAxis: Axis = { min: 0, max: lastStep, ticks: ticks(0, lastStep, Math.max(1, niceStep(0, lastStep, 8))), label: 'step' };
  const yAxis = valueAxis([...scored.map((a) => scoreOf(a)!), ...(input.baseline === undefined ? [] : [input.baseline])], input.primaryMetric);
  const entries: LegendEntry[] = [
    { label: 'validate', sample: marker('validate', 12, 6) },
    { label: 'submit', sample: marker('submit', 12, 6) },
    ...(input.baseline === undefined ? [] : [{ label: `baseline (${formatTick(input.baseline)})`, sample: `<line x1="0" y1="6" x2="24" y2="6" stroke="#555" stroke-dasharray="6 4"/>` }]),
    ...(failed.length ? [{ label: 'failed (no score)', sample: marker('failed', 12, 6) }] : []),
  ];
  const f = frameFor(entries, xAxis, yAxis);
  const at = (a: (typeof attempts)[number]) => [px(f.x(a.step)), px(f.y(scoreOf(a)!))] as const;
  const parts = [axes(f, xAxis, yAxis, input.title ?? `${input.primaryMetric} over steps`)];
  if (input.baseline !== undefined) {
    const y = px(f.y(input.baseline));
    parts.push(`<line class="baseline" x1="${f.left}" y1="${y}" x2="${f.left + f.plotWidth}" y2="${y}" stroke="#555" stroke-dasharray="6 4"/>`);
  }
  if (scored.length > 1) parts.push(`<path class="score-line" d="${scored.map((a, i) => `${i ? 'L' : 'M'}${at(a).join(' ')}`).join(' ')}" fill="none" stroke="#888" stroke-width="1.5"/>`);
  for (const a of scored) parts.push(`<g class="attempt"><title>step ${a.step} ${a.kind}: ${formatTick(scoreOf(a)!)}</title>${marker(a.kind, ...at(a))}</g>`);
  for (const a of failed) parts.push(`<g class="attempt failed"><title>step ${a.step} ${a.kind}: no score</title>${marker('failed', px(f.x(a.step)), f.top + f.plotHeight)}</g>`);
  parts.push(legend(f, entries));
  return svgDocument(f.width, f.height, parts.join('\n'));
}
