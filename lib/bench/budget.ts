import type { BudgetPoolState } from './types.js';

/**
 * A benchmark-wide dollar budget shared by its runs. Each run, when it starts, is allowed an equal share
 * of what is neither spent nor promised to runs still going (capped by the per-run budget); a finished
 * run gives back what it did not spend. Runs never get more than the pool holds, so together they
 * cannot exceed the total. Pure and deterministic: used in workflow code.
 */
export class BudgetPool {
  private committed = 0;
  private unstarted: number;

  /** `state`: where an earlier execution of the benchmark left the pool. */
  constructor(
    private readonly total: number,
    runs: number,
    state?: BudgetPoolState,
  ) {
    this.unstarted = state?.unstarted ?? runs;
    this.committed = state?.committed ?? 0;
  }

  state(): BudgetPoolState {
    return { committed: this.committed, unstarted: this.unstarted };
  }

  /** The allowance of the next run to start. */
  reserve(perRunCap = Infinity): number {
    const share = Math.max(0, this.total - this.committed) / Math.max(1, this.unstarted);
    const allowance = Math.min(perRunCap, share);
    this.unstarted = Math.max(0, this.unstarted - 1);
    this.committed += allowance;
    return allowance;
  }

  /** A run finished having spent `spentUsd` of its allowance (unknown spend keeps the whole allowance). */
  settle(allowance: number, spentUsd: number | undefined): void {
    if (spentUsd !== undefined) this.committed -= allowance - Math.min(allowance, spentUsd);
  }

  /** A run of an earlier execution of the benchmark counts with what it spent. */
  spentBefore(spentUsd: number): void {
    this.unstarted = Math.max(0, this.unstarted - 1);
    this.committed += spentUsd;
  }
}
