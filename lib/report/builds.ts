import { countByLabel, splitByLabel } from './labels.js';
import type { ReportRun } from './run.js';

/** A run's builds as one label: `a`, `a+b` for a run moved to new code, `unversioned`, or `unrecorded` (older records, .traj without). */
export function buildLabel(run: Pick<ReportRun, 'builds'>): string {
  if (run.builds === undefined) return 'unrecorded';
  return run.builds.length ? run.builds.join('+') : 'unversioned';
}

/** How many runs ran on each build label, in order of first appearance. */
export function buildCounts(runs: Pick<ReportRun, 'builds'>[]): Record<string, number> {
  return countByLabel(runs, buildLabel);
}

/**
 * The runs that ran entirely on `build` (`unversioned`/`unrecorded` select those labels), and the others:
 * a run moved from or to another build is left out, so scores and AUP never mix two versions of the code.
 */
export function onBuild<R extends Pick<ReportRun, 'builds'>>(runs: R[], build: string): { kept: R[]; excluded: R[] } {
  return splitByLabel(runs, buildLabel, build);
}
