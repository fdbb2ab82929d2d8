// The page's inline style and script: the report is one file that needs no network.

export const STYLE = `
:root { --ink: #1d2330; --muted: #5b6472; --line: #d8dde5; --soft: #f4f6f9; --accent: #0b63c5; --good: #1a7f37; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
header { padding: 20px 32px 12px; border-bottom: 1px solid var(--line); background: var(--soft); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header nav a { margin-right: 14px; }
main { padding: 8px 32px 48px; max-width: 1500px; }
h2 { margin: 28px 0 10px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
a { color: var(--accent); }
.note, .meta { color: var(--muted); margin: 6px 0; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
figure.plot { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff; }
figure.plot svg { display: block; width: 100%; height: auto; }
figure.profile-plot { flex: 1 1 560px; max-width: 780px; }
figure.steps-plot { max-width: 780px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
table.numbers td { font-variant-numeric: tabular-nums; }
table.counts td { position: relative; min-width: 110px; }
table.counts .bar { position: absolute; left: 0; bottom: 0; height: 3px; background: var(--accent); opacity: .55; }
.score.above { color: var(--good); font-weight: 600; }
.score.below { color: var(--bad); }
.score.none { color: var(--muted); }
.status.completed { color: var(--good); }
.status.failed { color: var(--bad); }
.status.running { color: var(--accent); }
#run-filter { width: 420px; max-width: 100%; padding: 5px 8px; border: 1px solid var(--line); border-radius: 4px; }
.trajectory { display: none; margin-top: 28px; border-top: 3px solid var(--accent); }
.trajectory:target, .trajectory.always { display: block; }
ol.steps { list-style: none; padding: 0; }
li.step { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.step-head { margin-bottom: 4px; }
.badge { display: inline-block; font-size: 12px; padding: 0 7px; border-radius: 9px; background: var(--soft); border: 1px solid var(--line); }
.cost { color: var(--muted); font-size: 12px; }
.thought { white-space: pre-wrap; margin: 4px 0 6px; }
pre { margin: 4px 0; padding: 8px 10px; background: var(--soft); border-radius: 4px; white-space: pre-wrap; word-break: break-word; font: 12.5px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
pre.action { background: #eef4fc; border-left: 3px solid var(--accent); }
.attempt { margin: 6px 0; padding: 4px 8px; background: #eefaf0; border-left: 3px solid var(--good); }
.attempt.failed { background: #fdf0ef; border-left-color: var(--bad); }
details.observation summary { cursor: pointer; color: var(--muted); }
.observation.empty { color: var(--muted); font-size: 12px; }
.source { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
button { font: inherit; padding: 2px 10px; }
`;

export const SCRIPT = `
document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-observations]');
  if (!button) return;
  const open = button.dataset.observations === 'open';
  button.closest('.trajectory').querySelectorAll('details.observation').forEach((d) => { d.open = open; });
});
const filter = document.getElementById('run-filter');
if (filter) filter.addEventListener('input', () => {
  const query = filter.value.trim().toLowerCase();
  document.querySelectorAll('#runs-table tbody tr').forEach((row) => { row.hidden = !row.textContent.toLowerCase().includes(query); });
});
`;
