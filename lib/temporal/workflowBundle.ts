// The workflow code of this checkout, bundled once per build and host. Bundling (webpack) costs a few CPU
// seconds, which every starting worker paid: a CLI's own, one restarted after a crash, each test file's.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundlePath } from '@temporalio/worker';
import { mlgymHome, workflowsPath } from '../home.js';
import { contentBuildId } from './deployment.js';

/** The content hash of this checkout's code, read once per process (every worker it starts asks). */
let thisBuild: string | undefined;

/** Bundles kept per host: the most recently used; an older build's worker that starts again bundles anew. */
export const KEPT_BUNDLES = 8;

const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The path of this checkout's workflow bundle with `interceptorModules`, built
 * on first use into MLGYM_HOME/cache/workflows. Its name is the content hash of the code (contentBuildId:
 * workflows, lib, package-lock.json) and of the modules, so changed code gets a new bundle. Two processes that
 * build the same bundle at once both write a whole file and rename it into place. Using a bundle marks it
 * used; making one removes all but the KEPT_BUNDLES most recently used.
 */
export async function cachedWorkflowBundle(interceptorModules: string[] = []): Promise<WorkflowBundlePath> {
  thisBuild ??= contentBuildId();
  const key = createHash('sha256').update([thisBuild, ...interceptorModules].join('\0')).digest('hex').slice(0, 16);
  const dir = join(mlgymHome(), 'cache', 'workflows');
  const codePath = join(dir, `${key}.js`);
  try {
    const now = new Date();
    utimesSync(codePath, now, now);
    return { codePath };
  } catch {
    // not made yet (or just pruned by another process): make it
  }
  const { code } = await bundleWorkflows(workflowsPath, interceptorModules);
  mkdirSync(dir, { recursive: true });
  const partial = `${codePath}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, codePath);
  pruneBundles(dir);
  return { codePath };
}

/** The workflows at `path` (this checkout's or another build's), bundled now, with nothing logged. */
export function bundleWorkflows(path: string, interceptorModules: string[] = []): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath: path, workflowInterceptorModules: interceptorModules, logger: silent });
}

/** Removes all but the KEPT_BUNDLES most recently used bundles (a worker reads its bundle once, at start). */
function pruneBundles(dir: string): void {
  const used = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const bundles = readdirSync(dir)
    .filter((name) => name.endsWith('.js'))
    .map((name) => ({ path: join(dir, name), used: used(join(dir, name)) }))
    .sort((a, b) => b.used - a.used);
  for (const old of bundles.slice(KEPT_BUNDLES)) rmSync(old.path, { force: true });
}
