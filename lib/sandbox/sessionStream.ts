import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { docker, RUNTIME_DIR } from './docker.js';

/**
 * One long-lived `session.py serve` per container, reached over the attached stream of a single
 * `docker exec`: a command then costs a JSON line each way instead of a new exec and a new
 * interpreter. The stream is only a transport. What is durable (the key directory of every command,
 * its output and result, the shell state) lives in the container exactly as with one exec per
 * command, so losing the stream (worker killed, container restarted, server process killed) loses
 * nothing: the caller falls back to the one-shot exec, which re-attaches by key.
 */

/** A request as `session.py serve` reads it. */
export interface SessionRequest {
  key: string;
  command: string;
  timeout_s: number;
  wait_s: number;
  cap: number;
}

/** The stream broke (or never opened): the request may or may not have reached the container. */
export class StreamBroken extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamBroken';
  }
}

/** The server understood the request and refused it (a bug on this side, not a transport failure). */
export class StreamRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamRequestError';
  }
}

interface Pending {
  resolve: (reply: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** How long a stream may sit unused before it is closed (its server process exits with it). */
const IDLE_CLOSE_MS = 5 * 60_000;
/** How long opening may take (exec create + start + the server's hello). */
const OPEN_TIMEOUT_MS = 15_000;

export class SessionStream {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly closeListeners: (() => void)[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private stderrTail = '';
  private lineBuffer = '';
  private helloReceived: ((hello: { pid: number; boot: string }) => void) | undefined;
  closed: string | undefined;
  /** The server process in the container and the container's boot mark (from its first line). */
  hello: { pid: number; boot: string } | undefined;

  private constructor(
    readonly containerId: string,
    private readonly socket: Duplex & { ref?: () => void; unref?: () => void },
  ) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker().modem.demuxStream(socket, stdout, stderr);
    stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    stderr.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000)));
    socket.on('end', () => this.close('the session server closed its stream'));
    socket.on('close', () => this.close('the stream was closed'));
    socket.on('error', (err: Error) => this.close(`stream error: ${err.message}`));
  }

  /** Start `session.py serve` in the container and wait for its hello. */
  static async open(containerId: string): Promise<SessionStream> {
    const exec = await docker().getContainer(containerId).exec({
      Cmd: ['python3', `${RUNTIME_DIR}/session.py`, 'serve'],
      User: 'agent',
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    const socket = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex;
    const stream = new SessionStream(containerId, socket);
    const hello = new Promise<{ pid: number; boot: string }>((resolve) => (stream.helloReceived = resolve));
    const broken = new Promise<never>((_, reject) => stream.onClose(() => reject(new StreamBroken(`session stream to ${containerId} did not open: ${stream.closed}${stream.stderrTail ? `: ${stream.stderrTail.trim()}` : ''}`))));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new StreamBroken(`session stream to ${containerId}: no hello within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS)));
    try {
      stream.hello = await Promise.race([hello, broken, late]);
    } catch (err) {
      stream.close((err as Error).message);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    stream.idle();
    return stream;
  }

  /**
   * Send one request; resolves with the server's reply. Rejects with StreamBroken when the stream
   * breaks or no reply comes within `replyWithinMs` (then the stream is closed: a late reply is never read).
   */
  request(req: SessionRequest, replyWithinMs: number): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new StreamBroken(this.closed));
    const id = this.nextId++;
    clearTimeout(this.idleTimer);
    this.socket.ref?.();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.close(`no reply to ${req.key} within ${replyWithinMs} ms`), replyWithinMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(JSON.stringify({ id, ...req }) + '\n');
    });
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Close the stream: every waiting request fails with StreamBroken; the server exits on EOF. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = reason;
    clearTimeout(this.idleTimer);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new StreamBroken(`session stream to ${this.containerId} broke: ${reason}`));
    }
    this.pending.clear();
    this.socket.destroy();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private onData(chunk: Buffer): void {
    this.lineBuffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = this.lineBuffer.indexOf('\n')) >= 0) {
      const line = this.lineBuffer.slice(0, newline);
      this.lineBuffer = this.lineBuffer.slice(newline + 1);
      if (line.trim()) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.close(`unreadable line from the session server: ${line.slice(0, 200)}`);
      return;
    }
    if (message.hello) {
      this.helloReceived?.(message.hello as { pid: number; boot: string });
      return;
    }
    const pending = this.pending.get(message.id as number);
    if (!pending) return; // a reply to a request that was given up on
    this.pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (typeof message.error === 'string') pending.reject(new StreamRequestError(message.error));
    else pending.resolve(message);
    if (!this.pending.size) this.idle();
  }

  /** No request waiting: let the process exit if nothing else holds it, and close after a while. */
  private idle(): void {
    this.socket.unref?.();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close('idle'), IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }
}

/** Open streams by container id (a promise while opening, so concurrent callers share one). */
const streams = new Map<string, Promise<SessionStream | undefined>>();
/** Containers whose stream could not be opened recently (e.g. an image with an older session.py). */
const openFailedAt = new Map<string, number>();
/** After a failed open, use one exec per command for this long before trying again. */
const REOPEN_AFTER_MS = 10_000;

/**
 * The container's session stream, opened on first use; undefined when it cannot be opened now (the
 * caller then uses one exec per command).
 */
export function sessionStream(containerId: string): Promise<SessionStream | undefined> {
  const existing = streams.get(containerId);
  if (existing) return existing;
  if (Date.now() - (openFailedAt.get(containerId) ?? -Infinity) < REOPEN_AFTER_MS) return Promise.resolve(undefined);
  const opening: Promise<SessionStream | undefined> = SessionStream.open(containerId).then(
    (stream) => {
      openFailedAt.delete(containerId);
      stream.onClose(() => {
        if (streams.get(containerId) === opening) streams.delete(containerId);
      });
      return stream;
    },
    () => {
      openFailedAt.set(containerId, Date.now());
      if (streams.get(containerId) === opening) streams.delete(containerId);
      return undefined;
    },
  );
  streams.set(containerId, opening);
  return opening;
}

/** The stream already open to a container, if any (for tests and diagnostics; opens nothing). */
export async function openSessionStream(containerId: string): Promise<SessionStream | undefined> {
  const stream = await streams.get(containerId);
  return stream && !stream.closed ? stream : undefined;
}

/** Close every stream (their commands go on in the containers). */
export async function closeSessionStreams(): Promise<void> {
  const all = await Promise.all(streams.values());
  for (const stream of all) stream?.close('closed by the worker');
  streams.clear();
}
