import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities/index.js';
import { taskOrFail } from '../activities/context.js';
import { mlgymHome } from '../lib/home.js';
import { removeRunResources } from '../lib/sandbox/container.js';
import { docker } from '../lib/sandbox/docker.js';
import { ensureTaskImage } from '../lib/sandbox/images.js';
import type { BenchEnv } from './env.js';
import { TASK } from './runs.js';
import { timed } from './stats.js';

export interface ProvisioningResult {
  /** The provision activity with the task image cached: image check, container, workspace (ms, each try). */
  provisionMs: number[];
  teardownMs: number[];
  /** A task image whose build context changed (a new requirements line), then the same image again. */
  buildColdMs: number;
  buildCachedMs: number;
}

export async function measureProvisioning(env: BenchEnv, tries: number): Promise<ProvisioningResult> {
  const { provision } = createActivities();
  await ensureTaskImage(taskOrFail({ taskId: TASK }), () => {});
  const provisionMs: number[] = [];
  const teardownMs: number[] = [];
  for (let i = 0; i < tries; i++) {
    const runId = env.runId(`provision-${i}`);
    provisionMs.push((await timed(() => new MockActivityEnvironment({ heartbeatTimeoutMs: 20_000 }).run(provision, { runId, taskId: TASK, model: 'bench' }))).ms);
    teardownMs.push((await timed(() => removeRunResources(runId))).ms);
  }

  // A scratch environment: the task's image definition with a requirements file no image has seen.
  const dir = mkdtempSync(join(mlgymHome(), 'build-'));
  writeFileSync(join(dir, 'requirements.txt'), `# bench ${randomBytes(8).toString('hex')}\n`);
  const scratch = { ...taskOrFail({ taskId: TASK }), dir, requirements_path: 'requirements.txt' };
  const cold = await timed(() => ensureTaskImage(scratch, () => {}));
  const cached = await timed(() => ensureTaskImage(scratch, () => {}));
  await docker().getImage(cold.value).remove({ force: true });
  return { provisionMs, teardownMs, buildColdMs: cold.ms, buildCachedMs: cached.ms };
}
