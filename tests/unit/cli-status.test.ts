import { describe, expect, it } from 'vitest';
import { describeStatus } from '../../cli/control.js';
import type { RunStatus } from '../../lib/run/types.js';

const status: RunStatus = {
  runId: 'run-1',
  task: 'prisonersDilemma',
  model: 'baseline',
  status: 'running',
  step: 3,
  maxSteps: 10,
  costUsd: 0.5,
  budgetUsd: 2,
  bestScore: 2.4,
  primaryMetric: 'Score',
  lastAction: 'python train.py',
  container: 'mlgym-run-1',
  pendingHints: 0,
  protocol: 'ours',
};

describe('mlgym status, the human line', () => {
  it('says where the run is, and how often it moved off a lost host', () => {
    expect(describeStatus(status)).toBe('run-1: running, step 3/10, $0.5000 of $2.00, best Score 2.4, last action: python train.py');
    expect(describeStatus({ ...status, hostQueue: 'mlgym@gpu-2' })).toContain('best Score 2.4, on mlgym@gpu-2, last action');
    expect(describeStatus({ ...status, hostQueue: 'mlgym@gpu-2', migrations: 1 })).toContain('on mlgym@gpu-2 (moved 1 time off a lost host)');
    expect(describeStatus({ ...status, hostQueue: 'mlgym@gpu-3', migrations: 2 })).toContain('(moved 2 times off a lost host)');
  });
});
