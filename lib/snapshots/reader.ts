import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { docker, isNotFound, labels } from '../sandbox/docker.js';
import { READER_ROOT } from './listing.js';

/**
 * The snapshot reader: a small container that mounts the run's workspace volume read-only at /ws and
 * reads it for one snapshot (`find`, GNU `tar`), then goes. It runs as root with one capability,
 * DAC_READ_SEARCH (read any file, whatever mode the agent gave it), no network, a read-only root, and
 * shares nothing with the agent's processes. It lives only while a snapshot is taken, so it never
 * holds the volume otherwise (a lost container's volume can be removed or replaced at any time).
 */
export const READER_ROLE = 'snapshot';

export function readerName(runId: string): string {
  return `mlgym-snap-${runId}`;
}

export function readerOptions(runId: string, image: string, volume: string): Docker.ContainerCreateOptions {
  return {
    name: readerName(runId),
    Image: image,
    User: '0:0',
    Cmd: ['sleep', 'infinity'],
    Labels: { [labels.run]: runId, [labels.role]: READER_ROLE },
    NetworkDisabled: true,
    HostConfig: {
      Init: true,
      CapDrop: ['ALL'],
      CapAdd: ['DAC_READ_SEARCH'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
      PidsLimit: 64,
      ReadonlyRootfs: true,
      Mounts: [{ Type: 'volume', Source: volume, Target: READER_ROOT, ReadOnly: true }],
    },
  };
}

/** Start the run's reader from `image` (a reader left by a snapshot that died is replaced). */
export async function startReader(runId: string, image: string, volume: string): Promise<string> {
  await removeReader(runId);
  const container = await docker().createContainer(readerOptions(runId, image, volume));
  await container.start();
  return container.id;
}

/** Remove the run's reader, if there is one (it holds the workspace volume). */
export async function removeReader(runId: string): Promise<void> {
  const found = await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${runId}`, `${labels.role}=${READER_ROLE}`] } });
  for (const c of found) await docker().getContainer(c.Id).remove({ force: true }).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
}

export interface StreamedExec {
  /** The process's stdout, streamed (back-pressure reaches the process). */
  stdout: Readable;
  /** Its exit code and stderr (the last 64 KB), once it has ended and stdout has been read. */
  done: Promise<{ exitCode: number; stderr: string }>;
}

const STDERR_KEEP = 64 * 1024;

/** Run a process in a container with its stdout streamed, optionally feeding it `stdin`. */
export async function execStream(containerId: string, cmd: string[], opts: { user?: string; stdin?: Buffer } = {}): Promise<StreamedExec> {
  const exec = await docker().getContainer(containerId).exec({ Cmd: cmd, User: opts.user ?? '0:0', AttachStdin: opts.stdin !== undefined, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: opts.stdin !== undefined });
  const stdout = new PassThrough({ highWaterMark: 1024 * 1024 });
  const stderr = new PassThrough();
  let errText = '';
  stderr.on('data', (c: Buffer) => {
    errText = (errText + c.toString('utf8')).slice(-STDERR_KEEP);
  });
  docker().modem.demuxStream(stream, stdout, stderr);
  // The demuxer writes without waiting: pause the connection while stdout is full.
  stdout.on('drain', () => stream.resume());
  const write = stdout.write.bind(stdout);
  stdout.write = ((chunk: Buffer, ...rest: unknown[]) => {
    const ok = (write as (c: Buffer, ...r: unknown[]) => boolean)(chunk, ...rest);
    if (!ok) stream.pause();
    return ok;
  }) as typeof stdout.write;
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const done = ended.then(async () => {
    stdout.end();
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, stderr: errText };
  });
  done.catch((err: Error) => stdout.destroy(err));
  if (opts.stdin !== undefined) {
    stream.write(opts.stdin);
    (stream as unknown as { end: () => void }).end();
  }
  return { stdout, done };
}
