import { better } from '../../scoring/direction.js';
import { profilePlotSvg } from '../../scoring/plots.js';
import { ACTION_CATEGORIES, EXIT_CATEGORIES } from '../categories.js';
import type { GroupSummary, ReportSummary } from '../summary.js';
import { formatCount, formatScore, formatUsd, html, table, trusted, type Markup } from './markup.js';

type Profiles = NonNullable<ReportSummary['profiles']>;

export function profilesSection(profiles: Profiles): Markup {
  const plot = (variant: 'bestAttempt' | 'bestSubmission', title: string) =>
    html`<figure class="plot profile-plot" data-variant="${variant}">${trusted(profilePlotSvg(profiles[variant], { title }))}</figure>`;
  return html`<section id="profiles"><h2>Performance profiles</h2>
<p class="note">Dolan–Moré profiles over the tasks, the baseline counted as a method; τ is log10 of the performance ratio, up to T = ${profiles.tauMax} for both variants.</p>
<div class="plots">${plot('bestAttempt', 'Best attempt')}${plot('bestSubmission', 'Best submission')}</div></section>`;
}

export function aupSection(profiles: Profiles): Markup {
  const { bestAttempt: a, bestSubmission: s } = profiles;
  const methods = [...a.methods].sort((x, y) => a.aup[y]! - a.aup[x]! || s.aup[y]! - s.aup[x]!);
  const rows = methods.map((m) => [m, a.aup[m]!.toFixed(3), s.aup[m]!.toFixed(3), a.ranks[m]!.toFixed(2), s.ranks[m]!.toFixed(2)]);
  return html`<section id="aup"><h2>AUP and mean rank</h2>
${table(['method', 'AUP (best attempt)', 'AUP (best submission)', 'mean rank (best attempt)', 'mean rank (best submission)'], rows, { className: 'numbers' })}
<p class="note">Area under the profile (at most T = ${profiles.tauMax}); mean rank of the performance ratio over the tasks (1 = best).</p></section>`;
}

/** A score with a class saying how it compares with the baseline. */
function scoreCell(score: number | null | undefined, baseline: number, direction: 'max' | 'min'): Markup {
  if (score === null || score === undefined) return html`<span class="score none">–</span>`;
  const verdict = better(score, baseline, direction) ? 'above' : better(baseline, score, direction) ? 'below' : 'equal';
  return html`<span class="score ${verdict}">${formatScore(score)}</span>`;
}

export function scoresSection(summary: ReportSummary): Markup {
  const { scores, scoring, unscored } = summary;
  const taskIds = Object.keys(scoring);
  const methods = scores ? Object.keys(scores.bestAttempt.tasks[taskIds[0]!]?.scores ?? {}) : [];
  const headers = ['task', 'metric', 'baseline', ...methods.flatMap((m) => [html`${m}<br><small>best attempt</small>`, html`${m}<br><small>best submission</small>`])];
  const rows = taskIds.map((task) => {
    const { primaryMetric, direction, baseline } = scoring[task]!;
    const cells = methods.flatMap((m) => [
      scoreCell(scores!.bestAttempt.tasks[task]!.scores[m], baseline, direction),
      scoreCell(scores!.bestSubmission.tasks[task]!.scores[m], baseline, direction),
    ]);
    return [task, `${primaryMetric} (${direction})`, formatScore(baseline), ...cells];
  });
  return html`<section id="scores"><h2>Scores per task against the baseline</h2>
${taskIds.length ? table(headers, rows, { className: 'numbers' }) : html`<p>No task could be scored.</p>`}
<p class="note">Per task and model the best over its runs: of each run's best scored attempt, and of its final submission. <span class="score above">better</span> / <span class="score below">worse</span> than the baseline.</p>
${unscored.length ? html`<p class="note">Not scored: ${unscored.map((u, i) => html`${i ? '; ' : ''}<b>${u.task}</b> (${u.why})`)}.</p>` : ''}</section>`;
}

function groups(summary: ReportSummary): [string, GroupSummary][] {
  return [...Object.entries(summary.byModel), ...(summary.models.length > 1 ? [['all runs', summary.all] as [string, GroupSummary]] : [])];
}

export function costSection(summary: ReportSummary): Markup {
  const rows = groups(summary).map(([name, g]) => [
    name,
    formatCount(g.runs),
    formatUsd(g.costUsd),
    formatUsd(g.runs ? g.costUsd / g.runs : 0),
    formatCount(g.usage.tokensSent),
    formatCount(g.usage.tokensReceived),
    formatCount(g.usage.apiCalls),
  ]);
  return html`<section id="cost"><h2>Cost per model</h2>
${table(['model', 'runs', 'total cost', 'cost per run', 'tokens sent', 'tokens received', 'API calls'], rows, { className: 'numbers' })}
<p class="note">The cost of each run is in the runs table below.</p></section>`;
}

/** Counts per category (rows) and group (columns), with each group's share. */
function countsTable(summary: ReportSummary, categories: readonly string[], countOf: (g: GroupSummary) => Partial<Record<string, number>>, totalOf: (g: GroupSummary) => number): Markup {
  const columns = groups(summary);
  const present = categories.filter((c) => columns.some(([, g]) => (countOf(g)[c] ?? 0) > 0));
  const cell = (g: GroupSummary, c: string) => {
    const n = countOf(g)[c] ?? 0;
    const share = totalOf(g) ? (100 * n) / totalOf(g) : 0;
    return html`${formatCount(n)} <small>(${share.toFixed(1)}%)</small><span class="bar" style="width:${share.toFixed(1)}%"></span>`;
  };
  return table(['', ...columns.map(([name]) => name)], present.map((c) => [c, ...columns.map(([, g]) => cell(g, c))]), { className: 'numbers counts' });
}

export function exitsSection(summary: ReportSummary): Markup {
  const statuses = Object.entries(summary.all.exitStatuses).sort(([, a], [, b]) => b - a);
  return html`<section id="exits"><h2>Exit statuses</h2>
${countsTable(summary, EXIT_CATEGORIES, (g) => g.exits, (g) => g.runs)}
<p class="note">Categories of MLGym's exit statuses; a run can carry two (how it ended and why), so a column can add up to more than 100%.</p>
<details><summary>Raw exit statuses</summary>${table(['exit status', 'runs'], statuses.map(([s, n]) => [s, formatCount(n)]))}</details></section>`;
}

export function actionsSection(summary: ReportSummary): Markup {
  const steps = (g: GroupSummary) => Object.values(g.actions).reduce((a, b) => a + (b ?? 0), 0);
  return html`<section id="actions"><h2>Actions</h2>
${countsTable(summary, ACTION_CATEGORIES, (g) => g.actions, steps)}
<p class="note">Edit: edit, insert, create. View: open, goto, scroll, cat, head, ls…. Python: python, python3, torchrun…. Search: search_dir, search_file, find_file, grep, find. Exit: the exit_* pseudo-actions. Bash: every other command.</p></section>`;
}
