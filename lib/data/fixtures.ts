import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { DatasetConfig } from '../config/schema.js';
import { docker } from '../sandbox/docker.js';
import { BASE_IMAGE } from '../sandbox/images.js';

export interface FixtureOutcome {
  dataset: string;
  dataDir: string;
  generated: boolean;
}

/** The dataset configs in a folder that have a fixture. */
export function fixtureDatasets(folder: string): (DatasetConfig & { file: string })[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ ...loadConfig('dataset', join(folder, f)), file: join(folder, f) }))
    .filter((d) => d.fixture !== undefined);
}

/**
 * Generate every fixture whose generator changed since it last ran (or all, with `force`): the
 * generator runs in the mlgym-base image without network, as `python3 <generator> /out /private`.
 * A stamp beside the output (the generator's hash) makes a second call free.
 */
export async function generateFixtures(folder: string, opts: { force?: boolean; log?: (line: string) => void } = {}): Promise<FixtureOutcome[]> {
  const outcomes: FixtureOutcome[] = [];
  for (const d of fixtureDatasets(folder)) {
    const at = (p: string) => resolve(dirname(d.file), p);
    const generator = at(d.fixture!.generator);
    const dataDir = at(d.fixture!.local_path);
    const privateDir = d.fixture!.private_path ? at(d.fixture!.private_path) : undefined;
    if (!existsSync(generator)) throw new Error(`${d.file}: fixture.generator ${generator} does not exist`);
    const stampFile = `${dataDir}.stamp`;
    const stamp = generatorStamp(generator);
    const upToDate = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(dataDir) && (!privateDir || existsSync(privateDir));
    if (upToDate && !opts.force) {
      outcomes.push({ dataset: d.name, dataDir, generated: false });
      continue;
    }
    opts.log?.(`generating the ${d.name} fixture into ${dataDir}`);
    for (const f of [dataDir, privateDir]) if (f) (rmSync(f, { recursive: true, force: true }), mkdirSync(f, { recursive: true }));
    const { exitCode, output } = await runGenerator(generator, dataDir, privateDir);
    if (exitCode !== 0) throw new Error(`the ${d.name} fixture generator failed (exit ${exitCode}):\n${output.slice(-2000)}`);
    writeFileSync(stampFile, stamp);
    outcomes.push({ dataset: d.name, dataDir, generated: true });
  }
  return outcomes;
}

/** The hash of a generator and of the Python files beside it, which it may import (fixtures/fashion_mnist.py reuses cifar10.py). */
function generatorStamp(generator: string): string {
  const hash = createHash('sha256').update(readFileSync(generator));
  const folder = dirname(generator);
  for (const f of readdirSync(folder).filter((n) => n.endsWith('.py') && n !== basename(generator)).sort()) hash.update(f).update(readFileSync(join(folder, f)));
  return hash.digest('hex').slice(0, 16);
}

async function runGenerator(generator: string, dataDir: string, privateDir: string | undefined): Promise<{ exitCode: number; output: string }> {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const container = await docker().createContainer({
    Image: BASE_IMAGE,
    User: `${uid}:${gid}`,
    Cmd: ['python3', `/generator/${basename(generator)}`, '/out', privateDir ? '/private' : '/tmp/private'],
    Env: ['HOME=/tmp', 'PYTHONDONTWRITEBYTECODE=1'],
    HostConfig: {
      NetworkMode: 'none',
      Binds: [`${dirname(generator)}:/generator:ro`, `${dataDir}:/out`, ...(privateDir ? [`${privateDir}:/private`] : [])],
    },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true });
    return { exitCode: StatusCode, output: logs.toString('utf8') };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
