import type { Metrics } from '../../run/types.js';
import { escapeXml } from '../../scoring/svg.js';

/** Markup that is already safe to put in the page. */
export class Markup {
  constructor(readonly html: string) {}
}

type Value = string | number | Markup | null | undefined | false | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof Markup) return value.html;
  return escapeXml(String(value));
}

/** A template of markup: every interpolated string is escaped (agent text can never open a tag); Markup is kept. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Markup {
  return new Markup(strings.reduce((out, s, i) => out + render(values[i - 1] as Value) + s));
}

/** Markup we produce ourselves (the plots' SVG, the page's style and script). */
export function trusted(markup: string): Markup {
  return new Markup(markup);
}

export function formatScore(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : String(Number(value.toPrecision(6)));
}

export function formatUsd(value: number): string {
  return `$${value.toFixed(value >= 100 ? 2 : 4)}`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

export function formatMetrics(metrics: Metrics | undefined): string {
  if (!metrics || Object.keys(metrics).length === 0) return '–';
  return Object.entries(metrics)
    .map(([name, value]) => `${name} ${formatScore(value)}`)
    .join(', ');
}

/** A table; cells are escaped unless given as Markup. */
export function table(headers: readonly Value[], rows: readonly (readonly Value[])[], attrs: { id?: string; className?: string } = {}): Markup {
  return html`<table${attrs.id ? html` id="${attrs.id}"` : ''}${attrs.className ? html` class="${attrs.className}"` : ''}>
<thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead>
<tbody>${rows.map((row) => html`<tr>${row.map((cell) => html`<td>${cell}</td>`)}</tr>\n`)}</tbody>
</table>`;
}
