import { describe, expect, it } from 'vitest';
import { ensureTaskImage, ImageBuildError } from '../../lib/sandbox/images.js';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { fixtureTask } from '../helpers/sandbox.js';

describe('task images', () => {
  it('share one image between tasks with the same requirements (tagged by content hash)', async () => {
    const a = await ensureTaskImage(loadTask(taskFile('prisonersDilemma'), datasetsDir), () => undefined);
    const b = await ensureTaskImage(fixtureTask('sandboxProbe'), () => undefined);
    expect(a).toMatch(/^mlgym-env:[0-9a-f]{16}$/);
    expect(b).toBe(a);
  });

  it('report a failing build naming the task and the failing step, with the build output logged', async () => {
    const lines: string[] = [];
    const build = ensureTaskImage(fixtureTask('brokenBuild'), (line) => lines.push(line));
    await expect(build).rejects.toBeInstanceOf(ImageBuildError);
    const err = (await build.catch((e: unknown) => e)) as ImageBuildError;
    expect(err.taskId).toBe('brokenBuild');
    expect(err.step).toContain('pip3 install');
    expect(err.message).toMatch(/task "brokenBuild" failed at step "RUN .*pip3 install/);
    expect(lines.some((l) => /Step \d+\/\d+ : FROM mlgym-base/.test(l))).toBe(true);
  });
});
