import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/home.js';

/** Which of the given packages a fresh Node process has loaded after running `mlgym <args>` in it. */
function packagesLoadedBy(args: string[], packages: string[]): string[] {
  const script = `
    import { createRequire } from 'node:module';
    import { register } from 'tsx/esm/api';
    register();
    const { runCli } = await import('./cli/program.ts');
    await runCli(${JSON.stringify(args)});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    process.stdout.write(JSON.stringify(${JSON.stringify(packages)}.filter((p) => loaded.some((f) => f.includes('/node_modules/' + p + '/')))));
  `;
  const child = spawnSync('node', ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.slice(child.stdout.lastIndexOf('[')));
}

describe('CLI start-up', () => {
  it('commands that run no workflow do not load the Temporal worker runtime', () => {
    expect(packagesLoadedBy(['check', 'tasks/prisonersDilemma/task.yaml'], ['@temporalio/worker', '@temporalio/core-bridge', '@temporalio/common'])).toEqual(['@temporalio/common']);
  });
});
