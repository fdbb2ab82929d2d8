import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName } from '../../lib/run/records.js';
import type { Attempt, ProvisionResult } from '../../lib/run/types.js';
import { removeRunResources } from '../../lib/sandbox/container.js';
import { execIn } from '../../lib/sandbox/exec.js';
import type { GradingRecord } from '../../lib/sandbox/gradingKey.js';

/**
 * A validate or submit of a workspace that did not change since the run's last grading reuses that
 * grading; any change to the workspace, and any failed evaluation, is evaluated again.
 */
const store = new ArtifactStore();
const activities = createActivities({ store });
const runId = `test-reuse-${randomBytes(4).toString('hex')}`;
const ref = { runId, taskId: 'sandboxProbe', model: 'test' };
let containerId: string;
let image: string;
let step = 0;

/** The step whose evaluation the run's last grading record holds (a reuse leaves it as it was). */
const lastGraded = async () => (await store.readJson<GradingRecord>(runId, recordName.grading))?.step;

const shell = (command: string) => execIn(containerId, ['bash', '-c', `cd ~/workspace && ${command}`]);
const grade = async (kind: 'validate' | 'submit') => (await new MockActivityEnvironment().run(activities[kind], { ...ref, step: ++step, image })) as Attempt;

beforeAll(async () => {
  ({ containerId, image } = (await new MockActivityEnvironment().run(activities.provision, ref)) as ProvisionResult);
  await shell("printf 'id,label\\n0,1\\n1,1\\n' > submission.csv");
});
afterAll(() => removeRunResources(runId));

describe('grading an unchanged workspace once', () => {
  it('a submit right after a validate reuses its grading: same scores, no new evaluation', async () => {
    const validated = await grade('validate');
    expect(validated.metrics).toBeDefined();
    expect(validated.reusedFrom).toBeUndefined();
    expect(await lastGraded()).toBe(validated.step);
    const submitted = await grade('submit');
    expect(submitted).toMatchObject({ kind: 'submit', reusedFrom: validated.step, metrics: validated.metrics });
    expect(await lastGraded()).toBe(validated.step);
  });

  it('any change is evaluated again: new content, the same bytes rewritten, a mode', async () => {
    for (const change of ["printf 'id,label\\n0,1\\n1,0\\n' > submission.csv", 'cp submission.csv s && mv s submission.csv', 'chmod 600 submission.csv']) {
      await shell(change);
      const attempt = await grade('validate');
      expect(attempt.reusedFrom, change).toBeUndefined();
      expect(await lastGraded(), change).toBe(attempt.step);
    }
  });

  it('a failed evaluation is never reused', async () => {
    await shell('rm submission.csv');
    expect((await grade('validate')).error).toMatch(/submission\.csv not found/);
    const again = await grade('submit');
    expect(again.error).toMatch(/submission\.csv not found/);
    expect(again.reusedFrom).toBeUndefined();
  });
});
