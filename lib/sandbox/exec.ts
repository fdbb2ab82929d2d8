import { PassThrough } from 'node:stream';
import { docker } from './docker.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run a process in a container, optionally feeding stdin, and collect its output. */
export async function execIn(containerId: string, cmd: string[], opts: { user?: string; stdin?: string; env?: string[]; workdir?: string } = {}): Promise<ExecResult> {
  const exec = await docker().getContainer(containerId).exec({
    Cmd: cmd,
    User: opts.user ?? 'agent',
    Env: opts.env,
    WorkingDir: opts.workdir,
    AttachStdin: opts.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: opts.stdin !== undefined });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  docker().modem.demuxStream(stream, stdout, stderr);
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  if (opts.stdin !== undefined) {
    stream.write(opts.stdin);
    // Half-close so the process sees EOF on stdin while we keep reading its output.
    (stream as unknown as { end: () => void }).end();
  }
  await ended;
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
