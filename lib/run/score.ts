import type { Direction } from '../config/schema.js';
import { better } from '../scoring/direction.js';
import type { Attempt, ExitReason, Metrics } from './types.js';

/** The best scored attempt (validations and submissions) on the primary metric. */
export function bestAttempt(attempts: Attempt[], primary: string, direction: Direction): Attempt | null {
  let best: Attempt | null = null;
  for (const a of attempts) {
    const v = a.metrics?.[primary];
    if (v === undefined) continue;
    if (!best || better(v, best.metrics![primary]!, direction)) best = a;
  }
  return best;
}

/** MLGym's exit status for how the run ended: `submitted`, `autosubmission (<reason>)` or an evaluation error. */
export function exitStatus(final: Attempt | null, reason: ExitReason | 'submit'): string {
  if (reason === 'exit_forfeit') return 'exit_forfeit';
  if (!final) return reason === 'submit' ? 'submission_not_found' : `submission_not_found (${reason})`;
  if (final.error) return reason === 'submit' ? final.errorKind! : `${final.errorKind} (${reason})`;
  return reason === 'submit' ? 'submitted' : `autosubmission (${reason})`;
}

/** MLGym's results.json: every attempt's metrics in order, plus the baseline. */
export function mlgymResults(attempts: Attempt[], baseline: Metrics | undefined): { agent: Metrics[]; baseline: Metrics } {
  return { agent: attempts.filter((a) => a.metrics).map((a) => a.metrics!), baseline: baseline ?? {} };
}
