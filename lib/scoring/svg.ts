// Minimal SVG chart parts shared by the plots: a frame with scaled axes, ticks, labels and a legend.

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Distinguishable line colours (Okabe–Ito, then a few more). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#7F3C8D', '#8C564B'];
export const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A short label for a tick value, without floating-point noise (0.30000000000000004 → 0.3). */
export function formatTick(value: number): string {
  return String(Number(value.toPrecision(10)));
}

/** A step of 1, 2 or 5 × 10^k that cuts [min, max] into about `count` parts. */
export function niceStep(min: number, max: number, count = 5): number {
  const raw = (max - min) / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
}

/** The tick values on [min, max] at `step`. */
export function ticks(min: number, max: number, step: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

export interface Axis {
  min: number;
  max: number;
  ticks: number[];
  label: string;
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
  plotWidth: number;
  plotHeight: number;
  x: (value: number) => number;
  y: (value: number) => number;
}

export function frame(width: number, height: number, margin: { left: number; right: number; top: number; bottom: number }, xAxis: Axis, yAxis: Axis): Frame {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const scale = (axis: Axis, from: number, length: number) => (v: number) => from + ((v - axis.min) / (axis.max - axis.min || 1)) * length;
  const yUp = scale(yAxis, 0, plotHeight);
  return { width, height, left: margin.left, top: margin.top, plotWidth, plotHeight, x: scale(xAxis, margin.left, plotWidth), y: (v) => margin.top + plotHeight - yUp(v) };
}

/** A coordinate rounded to keep the SVG small. */
export function px(value: number): number {
  return Number(value.toFixed(2));
}

/** The plot box, grid lines, tick labels, axis labels and the title. */
export function axes(f: Frame, xAxis: Axis, yAxis: Axis, title: string): string {
  const bottom = f.top + f.plotHeight;
  const right = f.left + f.plotWidth;
  const parts = [`<rect x="${f.left}" y="${f.top}" width="${f.plotWidth}" height="${f.plotHeight}" fill="none" stroke="#333"/>`];
  for (const t of xAxis.ticks) {
    const x = px(f.x(t));
    parts.push(`<line x1="${x}" y1="${f.top}" x2="${x}" y2="${bottom}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const y = px(f.y(t));
    parts.push(`<line x1="${f.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${f.left - 5}" y1="${y}" x2="${f.left}" y2="${y}" stroke="#333"/>`);
    parts.push(`<text x="${f.left - 8}" y="${y + 4}" text-anchor="end">${formatTick(t)}</text>`);
  }
  parts.push(`<text x="${f.left + f.plotWidth / 2}" y="${bottom + 40}" text-anchor="middle">${escapeXml(xAxis.label)}</text>`);
  parts.push(`<text transform="translate(16 ${f.top + f.plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yAxis.label)}</text>`);
  parts.push(`<text x="${f.left + f.plotWidth / 2}" y="${f.top - 14}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  return parts.join('\n');
}

export interface LegendEntry {
  label: string;
  /** The sample drawn before the label, in a 24 × 12 box whose top-left corner is (0, 0). */
  sample: string;
}

export const LEGEND_LINE = 20;

/** A legend to the right of the plot box, one entry per line. */
export function legend(f: Frame, entries: readonly LegendEntry[]): string {
  const x = f.left + f.plotWidth + 16;
  return entries
    .map((e, i) => {
      const y = f.top + i * LEGEND_LINE;
      return `<g class="legend-entry" transform="translate(${x} ${y})">${e.sample}<text x="30" y="10">${escapeXml(e.label)}</text></g>`;
    })
    .join('\n');
}

export function svgDocument(width: number, height: number, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
