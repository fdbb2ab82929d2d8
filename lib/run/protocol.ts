// The evaluation protocol of a run: what `validate` shows the agent. Pure: imported by workflow code.
import type { AttemptKind } from './types.js';

/**
 * `ours` (default): validate shows the split the task names (`validate_shows`, the validation split unless the
 * task opts out), the test score stays private. `mlgym`: validate shows the test score, as MLGym-Bench did, for
 * reproducing the paper's numbers.
 */
export const PROTOCOLS = ['ours', 'mlgym'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const DEFAULT_PROTOCOL: Protocol = 'ours';

export function isProtocol(value: unknown): value is Protocol {
  return typeof value === 'string' && (PROTOCOLS as readonly string[]).includes(value);
}

/** The split whose score the agent sees for a validate or submit: the one rule for it. */
export function shownSplit(kind: AttemptKind, validateShows: 'validation' | 'test', protocol: Protocol | undefined): 'validation' | 'test' {
  if (kind === 'submit' || protocol === 'mlgym') return 'test';
  return validateShows;
}

/** A run's protocol as recorded; a record from before protocols were kept ran ours. */
export function protocolOf(record: { protocol?: unknown }): Protocol {
  return isProtocol(record.protocol) ? record.protocol : DEFAULT_PROTOCOL;
}
