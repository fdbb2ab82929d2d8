import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { repoRoot } from '../../lib/home.js';
import { cachedWorkflowBundle } from '../../lib/temporal/workflowBundle.js';

const dir = join(repoRoot, 'tests', 'histories');
const histories = readdirSync(dir).filter((f) => f.endsWith('.json'));

/**
 * Checked-in histories of representative runs must replay against today's workflow code: a change that
 * would break running workflows fails here (use `patched()` for such changes; see docs/versioning.md).
 */
describe('workflow replay against checked-in histories', async () => {
  const workflowBundle = await cachedWorkflowBundle();

  it('has histories to replay', () => {
    expect(histories.length).toBeGreaterThan(0);
  });

  it.each(histories)('%s replays deterministically', async (file) => {
    const { workflowId, history } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle }, historyFromJSON(history), workflowId)).resolves.toBeUndefined();
  });

  it('detects a workflow change that breaks a recorded history', async () => {
    const file = histories.find((f) => f.startsWith('baseline'));
    expect(file).toBeDefined();
    const { workflowId, history } = JSON.parse(readFileSync(join(dir, file!), 'utf8'));
    // Drop the first activity-scheduled event's type: the recorded command no longer matches.
    const broken = structuredClone(history);
    const scheduled = broken.events.find((e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    await expect(Worker.runReplayHistory({ workflowBundle }, historyFromJSON(broken), workflowId)).rejects.toThrow(/[Nn]ondeterminism|TMPRL1100/);
  });
});
