import type { ReportRun } from '../run.js';
import { summarize, type ReportSummary } from '../summary.js';
import { STYLE, SCRIPT } from './assets.js';
import { html, trusted, type Markup } from './markup.js';
import { actionsSection, aupSection, costSection, exitsSection, profilesSection, scoresSection } from './overview.js';
import { runsSection, trajectorySection } from './runs.js';

export interface ReportPage {
  title: string;
  /** Shown under the title: e.g. the benchmark in the Temporal Web UI. */
  links: { label: string; url: string }[];
  runs: ReportRun[];
  generatedAt: Date;
}

function header(page: ReportPage, summary: ReportSummary, sections: [string, string][]): Markup {
  const counts = `${page.runs.length} run${page.runs.length === 1 ? '' : 's'} · ${summary.tasks.length} task(s) · ${summary.models.length} model(s) · generated ${page.generatedAt.toISOString()}`;
  const builds = Object.entries(summary.builds);
  const buildNote =
    builds.length > 1
      ? html`<p class="meta warning">These runs ran on ${builds.length} builds of the code: ${builds.map(([b, n]) => `${b} (${n})`).join(', ')}. Scores and AUP mix them; <code>mlgym report --build &lt;id&gt;</code> restricts the report to one.</p>`
      : builds.length === 1 && builds[0]![0] !== 'unrecorded'
        ? html`<p class="meta">build ${builds[0]![0]}</p>`
        : '';
  return html`<header><h1>${page.title}</h1><p class="meta">${counts}${page.links.map((l) => html` · <a href="${l.url}" target="_blank" rel="noopener">${l.label}</a>`)}</p>${buildNote}${protocolNote(summary)}
<nav>${sections.map(([id, label]) => html`<a href="#${id}">${label}</a>`)}</nav></header>`;
}

/** Which protocol the runs ran under; a warning when they mix them. */
function protocolNote(summary: ReportSummary): Markup | string {
  const protocols = Object.entries(summary.protocols);
  if (protocols.length > 1) {
    return html`<p class="meta warning">These runs ran under ${protocols.length} protocols: ${protocols.map(([p, n]) => `${p} (${n})`).join(', ')}. Under mlgym the agent's validate showed its test score; scores and AUP mix them; <code>mlgym report --protocol &lt;name&gt;</code> restricts the report to one.</p>`;
  }
  return protocols.length === 1 ? html`<p class="meta">protocol ${protocols[0]![0]}${protocols[0]![0] === 'mlgym' ? " (MLGym's: validate showed the agent its test score)" : ''}</p>` : '';
}

/**
 * The report as one self-contained HTML page (inline style, script and SVG). Several runs: profiles, AUP,
 * scores, cost, exits, actions and every trajectory (opened from the runs table); one run: its trajectory.
 */
export function buildReport(page: ReportPage): { html: string; summary: ReportSummary } {
  const summary = summarize(page.runs);
  const single = page.runs.length === 1;
  const parts: [string, string, Markup][] = [];
  if (!single && summary.profiles) parts.push(['profiles', 'Profiles', profilesSection(summary.profiles)], ['aup', 'AUP', aupSection(summary.profiles)]);
  if (!single) parts.push(['scores', 'Scores', scoresSection(summary)], ['cost', 'Cost', costSection(summary)], ['exits', 'Exit statuses', exitsSection(summary)]);
  parts.push(['actions', 'Actions', actionsSection(summary)]);
  if (!single) parts.push(['runs', 'Runs', runsSection(page.runs)]);
  const markup = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title><style>${trusted(STYLE)}</style></head>
<body>${header(page, summary, parts.map(([id, label]) => [id, label]))}
<main>${parts.map(([, , section]) => section)}
${page.runs.map((run) => trajectorySection(run, single))}
</main><script>${trusted(SCRIPT)}</script></body></html>
`;
  return { html: markup.html, summary };
}
