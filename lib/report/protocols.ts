import { countByLabel, splitByLabel } from './labels.js';
import type { ReportRun } from './run.js';

/** A run's protocol as a label: `ours`, `mlgym`, or `unrecorded` (a run still going, whose result will say). */
export function protocolLabel(run: Pick<ReportRun, 'protocol'>): string {
  return run.protocol ?? 'unrecorded';
}

/** How many runs ran under each protocol, in order of first appearance. */
export function protocolCounts(runs: Pick<ReportRun, 'protocol'>[]): Record<string, number> {
  return countByLabel(runs, protocolLabel);
}

/**
 * The runs under `protocol` and the others, so that scores and AUP never mix runs whose agent saw its test
 * score (MLGym's protocol) with runs whose agent did not.
 */
export function underProtocol<R extends Pick<ReportRun, 'protocol'>>(runs: R[], protocol: string): { kept: R[]; excluded: R[] } {
  return splitByLabel(runs, protocolLabel, protocol);
}
