import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerDir } from '../home.js';
import type { LoadedTask } from '../config/load.js';
import { buildTar, treeEntries, type TarEntry } from './tar.js';
import { docker, followProgress, AGENT_UID, RUNTIME_DIR, WORKSPACE } from './docker.js';

export const BASE_IMAGE = 'mlgym-base';

export class ImageBuildError extends Error {
  constructor(readonly taskId: string, readonly step: string, detail: string) {
    super(`building the image for task "${taskId}" failed at step "${step}": ${detail}`);
    this.name = 'ImageBuildError';
  }
}

/** The Dockerfile of a task environment: base + agent user + the task's requirements + the runtime. */
export function dockerfile(task: Pick<LoadedTask, 'apt_packages' | 'requirements_path'>): string {
  const lines = [
    `FROM ${BASE_IMAGE}`,
    `RUN useradd --create-home --uid ${AGENT_UID} --shell /bin/bash agent && mkdir -p ${WORKSPACE} && chown agent:agent ${WORKSPACE}`,
  ];
  if (task.apt_packages.length) {
    lines.push(`RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${task.apt_packages.join(' ')} && rm -rf /var/lib/apt/lists/*`);
  }
  if (task.requirements_path) {
    lines.push('COPY requirements.txt /tmp/requirements.txt', 'RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip3 install --no-cache-dir -q -r /tmp/requirements.txt');
  }
  lines.push(`COPY runtime ${RUNTIME_DIR}`, `ENV PATH=${RUNTIME_DIR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PYTHONUNBUFFERED=1`);
  return lines.join('\n') + '\n';
}

function buildContext(task: LoadedTask): TarEntry[] {
  const root = { uid: 0, gid: 0, readOnly: true };
  const entries: TarEntry[] = [
    { name: 'Dockerfile', content: dockerfile(task), mode: 0o644, uid: 0, gid: 0 },
    ...treeEntries(join(dockerDir, 'runtime'), 'runtime', root),
  ];
  if (task.requirements_path) {
    const file = join(task.dir, task.requirements_path);
    if (!existsSync(file)) throw new ImageBuildError(task.id, 'requirements', `${file} does not exist`);
    entries.push({ name: 'requirements.txt', content: readFileSync(file), mode: 0o644, uid: 0, gid: 0 });
  }
  return entries;
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
  const entries = buildContext(task);
  const tag = `mlgym-env:${contextHash(entries, baseId)}`;
  try {
    await docker().getImage(tag).inspect();
    return tag;
  } catch {
    /* not built yet */
  }
  log(`building ${tag} for task ${task.id}`);
  let lastStep = 'start';
  const stream = await docker().buildImage(await buildTar(entries) as unknown as NodeJS.ReadableStream, { t: tag, labels: { 'mlgym.task': task.id }, rm: true, forcerm: true });
  try {
    await followProgress(stream, (line) => {
      const step = /^Step \d+\/\d+ : (.*)$/.exec(line);
      if (step) lastStep = step[1]!;
      log(line);
    });
  } catch (err) {
    throw new ImageBuildError(task.id, lastStep, (err as Error).message);
  }
  return tag;
}
