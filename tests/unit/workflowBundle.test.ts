import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/home.js';
import { cachedWorkflowBundle, KEPT_BUNDLES } from '../../lib/temporal/workflowBundle.js';

describe('the workflow bundle cache', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlgym-bundle-'));
  const saved = process.env.MLGYM_HOME;
  process.env.MLGYM_HOME = home;
  afterAll(() => {
    if (saved === undefined) delete process.env.MLGYM_HOME;
    else process.env.MLGYM_HOME = saved;
    rmSync(home, { recursive: true, force: true });
  });

  it('bundles the workflows once per build and serves the same file after that', async () => {
    const first = await cachedWorkflowBundle();
    expect(first.codePath.startsWith(join(home, 'cache', 'workflows'))).toBe(true);
    expect(readFileSync(first.codePath, 'utf8').includes('function agentRun(')).toBe(true);
    const written = statSync(first.codePath).ino;
    const second = await cachedWorkflowBundle();
    expect(second.codePath).toBe(first.codePath);
    expect(statSync(second.codePath).ino).toBe(written); // the same file, not written again
    expect(readdirSync(join(home, 'cache', 'workflows'))).toEqual([first.codePath.split('/').at(-1)]);
  });

  it('keeps a separate bundle for workflow interceptor modules, with them inside', async () => {
    const tracing = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
    const plain = await cachedWorkflowBundle();
    const traced = await cachedWorkflowBundle([tracing]);
    expect(traced.codePath).not.toBe(plain.codePath);
    // The bundle's entry point loads each interceptor module by its path in the repository.
    const loaded = `"./${relative(repoRoot, tracing)}")`;
    expect(readFileSync(traced.codePath, 'utf8').includes(loaded)).toBe(true);
    expect(readFileSync(plain.codePath, 'utf8').includes(loaded)).toBe(false);
  });

  it(`keeps the ${KEPT_BUNDLES} most recently used bundles when it makes one`, async () => {
    const dir = join(home, 'cache', 'workflows');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Bundles of older builds, the first used most recently.
    const old = Array.from({ length: KEPT_BUNDLES + 2 }, (_, i) => join(dir, `old${i}.js`));
    old.forEach((file, i) => {
      writeFileSync(file, '');
      const used = new Date(Date.now() - (i + 1) * 60_000);
      utimesSync(file, used, used);
    });
    const made = await cachedWorkflowBundle();
    expect(readdirSync(dir).map((name) => join(dir, name)).sort()).toEqual([made.codePath, ...old.slice(0, KEPT_BUNDLES - 1)].sort());
  });
});
