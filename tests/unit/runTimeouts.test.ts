import { describe, expect, it } from 'vitest';
import { DEFAULT_HEARTBEAT_TIMEOUT_S, heartbeatTimeoutS, runStartTimeouts } from '../../lib/run/timeouts.js';

describe('a run\'s timeouts', () => {
  it('default the heartbeat timeout to 10 s and keep a chosen one', () => {
    expect(heartbeatTimeoutS({})).toBe(DEFAULT_HEARTBEAT_TIMEOUT_S);
    expect(heartbeatTimeoutS({ heartbeatTimeoutS: 3 })).toBe(3);
  });

  it('time a dead worker\'s workflow task out no later than its activities, and never later than Temporal\'s default', () => {
    expect(runStartTimeouts({ heartbeatTimeoutS: 5 })).toEqual({ workflowTaskTimeout: '5s' });
    expect(runStartTimeouts({})).toEqual({ workflowTaskTimeout: '10s' });
    expect(runStartTimeouts({ heartbeatTimeoutS: 60 })).toEqual({ workflowTaskTimeout: '10s' });
  });
});
