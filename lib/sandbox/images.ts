import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { dockerDir } from '../home.js';
import { withMachineLock } from '../hostLock.js';
import type { LoadedTask } from '../config/load.js';
import { buildTar, treeEntries, type TarEntry } from './tar.js';
import { docker, followProgress, AGENT_UID, RUNTIME_DIR, WORKSPACE } from './docker.js';

export const BASE_IMAGE = 'mlgym-base';
/** How long a process waits for another one's build of the same image (PyTorch's takes minutes). */
const BUILD_WAIT_MS = 60 * 60_000;

export class ImageBuildError extends Error {
  constructor(readonly taskId: string, readonly step: string, detail: string) {
    super(`building the image for task "${taskId}" failed at step "${step}": ${detail}`);
    this.name = 'ImageBuildError';
  }
}

/**
 * Wheels this machine offers through pip's find-links (MLGYM_PIP_FIND_LINKS, else PIP_FIND_LINKS;
 * folders only) for the projects a requirements file names, e.g. a CPU-only torch. pip prefers them:
 * a local version such as 2.15.0+cpu sorts above PyPI's 2.15.0 and still satisfies `torch==2.15.0`.
 */
export function offeredWheels(requirements: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const wanted = new Set(
    requirements
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter((line) => /^[A-Za-z0-9]/.test(line))
      .map((line) => normalizeProject(line.split(/[\s\[<>=!~;@]/)[0]!)),
  );
  const folders = (env.MLGYM_PIP_FIND_LINKS ?? env.PIP_FIND_LINKS ?? '').split(/\s+/).filter((f) => f && !f.includes('://') && existsSync(f) && statSync(f).isDirectory());
  return folders.flatMap((folder) =>
    readdirSync(folder)
      .filter((file) => file.endsWith('.whl') && wanted.has(normalizeProject(file.split('-')[0]!)))
      .sort()
      .map((file) => join(folder, file)),
  );
}

function normalizeProject(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * The CA bundle pip trusts on this machine (MLGYM_PIP_CERT, else PIP_CERT), for machines whose way to
 * PyPI re-signs TLS: pip in the build uses it too. Unset or missing: pip's own bundle.
 */
export function pipCert(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.MLGYM_PIP_CERT ?? env.PIP_CERT;
  return file && existsSync(file) ? file : undefined;
}

/** What a task image's pip install uses besides PyPI: offered wheels, a CA bundle. */
export interface PipExtras {
  wheels: boolean;
  cert: boolean;
}

/** The Dockerfile of a task environment: base + agent user + the task's requirements + the runtime. */
export function dockerfile(task: Pick<LoadedTask, 'apt_packages' | 'requirements_path'>, extras: PipExtras = { wheels: false, cert: false }): string {
  const lines = [
    `FROM ${BASE_IMAGE}`,
    `RUN useradd --create-home --uid ${AGENT_UID} --shell /bin/bash agent && mkdir -p ${WORKSPACE} && chown agent:agent ${WORKSPACE}`,
  ];
  if (task.apt_packages.length) {
    lines.push(`RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${task.apt_packages.join(' ')} && rm -rf /var/lib/apt/lists/*`);
  }
  if (task.requirements_path) {
    if (extras.wheels) lines.push('COPY wheels /tmp/wheels');
    if (extras.cert) lines.push('COPY pip-ca.pem /tmp/pip-ca.pem');
    const cert = extras.cert ? ' PIP_CERT=/tmp/pip-ca.pem' : '';
    const findLinks = extras.wheels ? ' --find-links /tmp/wheels' : '';
    const cleanUp = extras.wheels ? ' && rm -rf /tmp/wheels' : '';
    lines.push('COPY requirements.txt /tmp/requirements.txt', `RUN PIP_BREAK_SYSTEM_PACKAGES=1${cert} pip3 install --no-cache-dir -q${findLinks} -r /tmp/requirements.txt${cleanUp}`);
  }
  lines.push(`COPY runtime ${RUNTIME_DIR}`, `ENV PATH=${RUNTIME_DIR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PYTHONUNBUFFERED=1`);
  return lines.join('\n') + '\n';
}

/**
 * The build context, and the offered wheels that go into it at build time. The wheels are hashed
 * by a manifest of their names and sizes (a wheel's name carries its version and build), not read.
 */
export function buildContext(task: LoadedTask, env: NodeJS.ProcessEnv = process.env): { entries: TarEntry[]; wheels: string[] } {
  const root = { uid: 0, gid: 0, readOnly: true };
  const file = task.requirements_path && join(task.dir, task.requirements_path);
  if (file && !existsSync(file)) throw new ImageBuildError(task.id, 'requirements', `${file} does not exist`);
  const requirements = file ? readFileSync(file) : undefined;
  const wheels = requirements ? offeredWheels(requirements.toString(), env) : [];
  const cert = requirements ? pipCert(env) : undefined;
  const entries: TarEntry[] = [
    { name: 'Dockerfile', content: dockerfile(task, { wheels: wheels.length > 0, cert: cert !== undefined }), mode: 0o644, uid: 0, gid: 0 },
    ...treeEntries(join(dockerDir, 'runtime'), 'runtime', root),
  ];
  if (requirements) entries.push({ name: 'requirements.txt', content: requirements, mode: 0o644, uid: 0, gid: 0 });
  if (cert) entries.push({ name: 'pip-ca.pem', content: readFileSync(cert), mode: 0o644, uid: 0, gid: 0 });
  if (wheels.length) {
    const manifest = wheels.map((w) => `${basename(w)} ${statSync(w).size}\n`).join('');
    entries.push({ name: 'wheels', mode: 0o755, uid: 0, gid: 0 }, { name: 'wheels/MANIFEST', content: manifest, mode: 0o644, uid: 0, gid: 0 });
  }
  return { entries, wheels };
}

/** Content hash of the build context plus the base image id: identical environments share one image. */
export function contextHash(entries: TarEntry[], baseImageId: string): string {
  const hash = createHash('sha256').update(baseImageId);
  for (const e of [...entries].sort((a, b) => a.name.localeCompare(b.name))) {
    hash.update(`${e.name}\0${e.mode}\0`);
    if (e.content !== undefined) hash.update(e.content);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Build the task's environment image unless an image with the same content hash exists; returns its tag. */
export async function ensureTaskImage(task: LoadedTask, log: (line: string) => void): Promise<string> {
  let baseId: string;
  try {
    baseId = (await docker().getImage(BASE_IMAGE).inspect()).Id;
  } catch {
    throw new ImageBuildError(task.id, 'base image', `${BASE_IMAGE} is missing: run \`npm run setup\``);
  }
  const { entries, wheels } = buildContext(task);
  const tag = `mlgym-env:${contextHash(entries, baseId)}`;
  if (await imageExists(tag)) return tag;
  // Runs of one task provisioned together on a fresh host wait for one build rather than each building it,
  // whatever their MLGYM_HOME: the images are the machine's engine's.
  return withMachineLock(`image-${tag}`, BUILD_WAIT_MS, async () => {
    if (!(await imageExists(tag))) await buildTaskImage(task, tag, entries, wheels, log);
    return tag;
  });
}

async function imageExists(tag: string): Promise<boolean> {
  return docker()
    .getImage(tag)
    .inspect()
    .then(() => true, () => false);
}

async function buildTaskImage(task: LoadedTask, tag: string, entries: TarEntry[], wheels: string[], log: (line: string) => void): Promise<void> {
  log(`building ${tag} for task ${task.id}${wheels.length ? ` with offered wheels ${wheels.map((w) => basename(w)).join(', ')}` : ''}`);
  const wheelEntries = wheels.map((w) => ({ name: `wheels/${basename(w)}`, content: readFileSync(w), mode: 0o644, uid: 0, gid: 0 }));
  let lastStep = 'start';
  const stream = await docker().buildImage(await buildTar([...entries, ...wheelEntries]) as unknown as NodeJS.ReadableStream, { t: tag, labels: { 'mlgym.task': task.id }, rm: true, forcerm: true });
  try {
    await followProgress(stream, (line) => {
      const step = /^Step \d+\/\d+ : (.*)$/.exec(line);
      if (step) lastStep = step[1]!;
      log(line);
    });
  } catch (err) {
    throw new ImageBuildError(task.id, lastStep, (err as Error).message);
  }
}
