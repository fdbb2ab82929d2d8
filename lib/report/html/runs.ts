import { capText } from '../../agent/history.js';
import type { Attempt } from '../../run/types.js';
import { scoreOverStepsSvg } from '../../scoring/plots.js';
import { bestOf } from '../../scoring/direction.js';
import { actionCategory } from '../categories.js';
import type { ReportRun, ReportStep } from '../run.js';
import { formatCount, formatMetrics, formatScore, formatUsd, html, table, trusted, type Markup } from './markup.js';

/** The longest observation shown in full; longer ones keep their head and tail (the full text stays in the run's records). */
const OBSERVATION_CAP = 20_000;

const anchorOf = (run: ReportRun) => `run-${run.id}`;

function runScores(run: ReportRun): { best: number | null; submission: number | null } {
  const metric = run.primaryMetric;
  if (metric === undefined || run.direction === undefined) return { best: null, submission: null };
  const submission = run.attempts.filter((a) => a.kind === 'submit').at(-1)?.metrics?.[metric];
  return { best: bestOf(run.attempts.map((a) => a.metrics?.[metric]), run.direction), submission: submission ?? null };
}

export function runsSection(runs: ReportRun[]): Markup {
  const rows = runs.map((run) => {
    const { best, submission } = runScores(run);
    return [
      html`<a class="run-link" href="#${anchorOf(run)}">${run.id}</a>`,
      run.task,
      run.model,
      html`<span class="status ${run.status}">${run.exitStatus}</span>`,
      formatCount(run.stepCount),
      formatUsd(run.costUsd),
      run.primaryMetric ? `${run.primaryMetric} ${formatScore(best)}` : '–',
      formatScore(submission),
      run.uiUrl ? html`<a href="${run.uiUrl}" target="_blank" rel="noopener">Temporal</a>` : run.origin === 'traj' ? 'MLGym .traj' : '',
    ];
  });
  return html`<section id="runs"><h2>Runs</h2>
<p><input id="run-filter" type="search" placeholder="Filter runs by id, task, model or status" aria-label="Filter runs"></p>
${table(['run', 'task', 'model', 'exit status', 'steps', 'cost', 'best attempt', 'submission', 'workflow'], rows, { id: 'runs-table', className: 'numbers' })}
<p class="note">Click a run to open its trajectory.</p></section>`;
}

function attemptLine(a: Attempt): Markup {
  if (a.error) return html`<div class="attempt failed"><b>${a.kind}</b> failed: ${a.error}</div>`;
  const shown = a.shownMetrics && a.kind === 'validate' ? html` · shown to the agent: ${formatMetrics(a.shownMetrics)}` : '';
  return html`<div class="attempt"><b>${a.kind}</b> scored ${formatMetrics(a.metrics)}${shown}</div>`;
}

/** Where a fork comes from and where it diverged, and the run's own forks, linked when they are in the report. */
function familyLine(run: ReportRun): Markup {
  const family = run.family;
  if (!family) return html``;
  const link = (id: string) => html`<a href="#run-${id}">${id}</a>`;
  const parent = family.parent ? html`Fork of ${link(family.parent.runId)}: steps 0–${family.parent.atStep} are its parent's, diverged at step ${family.parent.atStep + 1}. ` : '';
  const forks = family.forks.length ? html`Forks: ${family.forks.map((f, i) => html`${i ? ', ' : ''}${link(f.runId)} (after step ${f.atStep}, ${f.model})`)}.` : '';
  return html`<p class="meta family">${parent}${forks}</p>`;
}

function rescoreLines(run: ReportRun): Markup {
  if (!run.rescores?.length) return html``;
  return html`${run.rescores.map((r) => html`<div class="attempt${r.submission?.error ? ' failed' : ''}"><b>rescored</b> with evaluation ${r.evaluatorVersion}: ${r.submission ? (r.submission.error ?? formatMetrics(r.submission.metrics)) : 'no submission'}</div>`)}`;
}

function stepItem(run: ReportRun, s: ReportStep): Markup {
  const action = s.action || (s.attempt?.kind === 'submit' ? '(autosubmit by the harness)' : '(no action recorded)');
  const category = s.action ? actionCategory(s.action) : 'Harness';
  const lines = s.observation ? s.observation.split('\n').length : 0;
  return html`<li class="step" id="${anchorOf(run)}-step-${s.step}">
<div class="step-head"><b>Step ${s.step}</b> <span class="badge">${category}</span>${run.family?.parent && s.step <= run.family.parent.atStep ? html` <span class="badge">from ${run.family.parent.runId}</span>` : ''}${s.rerunOn?.length ? html` <span class="badge">re-run on ${s.rerunOn.join(', ')} after a lost host</span>` : ''}${s.costUsd ? html` <span class="cost">${formatUsd(s.costUsd)}</span>` : ''}</div>
${s.thought ? html`<div class="thought">${s.thought}</div>` : ''}
<pre class="action">${action}</pre>
${s.attempt ? attemptLine(s.attempt) : ''}
${s.observation ? html`<details class="observation"><summary>Observation (${formatCount(lines)} line${lines === 1 ? '' : 's'})</summary><pre>${capText(s.observation, OBSERVATION_CAP)}</pre></details>` : html`<div class="observation empty">(no output)</div>`}
</li>`;
}

function scorePlot(run: ReportRun): Markup {
  if (run.primaryMetric === undefined || run.attempts.length === 0) return html``;
  const svg = scoreOverStepsSvg({ attempts: run.attempts, primaryMetric: run.primaryMetric, baseline: run.baseline, title: `${run.primaryMetric} over steps` });
  return html`<figure class="plot steps-plot">${trusted(svg)}</figure>`;
}

/** A run's trajectory: each step's thought, action, graded attempt and (collapsed) observation; shown when its anchor is the target. */
export function trajectorySection(run: ReportRun, alwaysOpen: boolean): Markup {
  const tokens = run.usage.apiCalls ? ` · ${formatCount(run.usage.apiCalls)} API calls, ${formatCount(run.usage.tokensSent)} tokens sent, ${formatCount(run.usage.tokensReceived)} received` : '';
  return html`<section class="trajectory${alwaysOpen ? ' always' : ''}" id="${anchorOf(run)}">
<h2>Trajectory: ${run.id}</h2>
<p class="meta">${run.task} · ${run.model} · <span class="status ${run.status}">${run.exitStatus}</span> · ${formatCount(run.stepCount)} steps · ${formatUsd(run.costUsd)}${tokens}</p>
<p class="meta">${run.uiUrl ? html`<a href="${run.uiUrl}" target="_blank" rel="noopener">Open the workflow in the Temporal Web UI</a> · ` : ''}<span class="source">${run.source}</span>${alwaysOpen ? '' : html` · <a href="#runs">back to the runs</a>`}</p>
${familyLine(run)}
${run.error ? html`<p class="attempt failed">${run.error}</p>` : ''}
${rescoreLines(run)}
${scorePlot(run)}
<p><button type="button" data-observations="open">Expand all observations</button> <button type="button" data-observations="close">Collapse all</button></p>
<ol class="steps">${run.steps.map((s) => stepItem(run, s))}</ol>
</section>`;
}
