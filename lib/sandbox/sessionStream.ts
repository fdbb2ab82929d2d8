import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { docker, RUNTIME_DIR } from './docker.js';
import { encodeRequest, MalformedReply, parseSessionLine, type CommandReply, type Hello, type SessionRequest } from './sessionProtocol.js';

/**
 * One long-lived `session.py serve` per container, reached over the attached stream of a single
 * `docker exec`: a command then costs a JSON line each way instead of a new exec and a new
 * interpreter. The stream is only a transport. What is durable (the key directory of every command,
 * its output and result, the shell state) lives in the container exactly as with one exec per
 * command, so losing the stream (worker killed, container restarted, server process killed) loses
 * nothing: the caller falls back to the one-shot exec, which re-attaches by key.
 *
 * Requests and replies are lib/sandbox/sessionProtocol.ts's, the same as the one-shot exec's. A line
 * from the server that is not a message of that protocol (a MalformedReply) breaks the stream like a
 * lost connection: every request waiting on it fails with StreamBroken, and is asked for again.
 */

export type { SessionRequest } from './sessionProtocol.js';

/**
 * The stream broke (or never opened), or the server wrote a line that is not a message of the
 * protocol: the request may or may not have reached the container.
 */
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
  key: string;
  resolve: (reply: CommandReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** How long a stream may sit unused before it is closed (its server process exits with it). */
const IDLE_CLOSE_MS = 5 * 60_000;
/** How long opening may take (exec create + start + the server's hello). */
const OPEN_TIMEOUT_MS = 15_000;

export class SessionStream {
  private readonly pending = new Map<number, Pending>();
  private readonly closeListeners: (() => void)[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private stderrTail = '';
  private lineBuffer = '';
  private readonly decoder = new StringDecoder('utf8');
  private helloReceived: ((hello: Hello) => void) | undefined;
  closed: string | undefined;
  /** The server process in the container and the container's boot mark (from its first line). */
  hello: Hello | undefined;

  private constructor(
    readonly containerId: string,
    private readonly socket: Duplex & { ref?: () => void; unref?: () => void },
  ) {
    // Sinks that handle each chunk as the demultiplexer writes it, so every line that arrived is
    // read before the socket's end is.
    const sink = (onChunk: (chunk: Buffer) => void) =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          onChunk(chunk);
          done();
        },
      });
    const stdout = sink((chunk) => this.onData(chunk));
    const stderr = sink((chunk) => (this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000)));
    docker().modem.demuxStream(socket, stdout, stderr);
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
    return SessionStream.attach(containerId, socket);
  }

  /**
   * A stream over the attached (multiplexed) socket of a `session.py serve` exec, once its hello has
   * come. Rejects with StreamBroken when the socket ends, the first line is not a hello, or none
   * comes in time.
   */
  static async attach(containerId: string, socket: Duplex): Promise<SessionStream> {
    const stream = new SessionStream(containerId, socket);
    const hello = new Promise<Hello>((resolve) => (stream.helloReceived = resolve));
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
  request(req: SessionRequest, replyWithinMs: number): Promise<CommandReply> {
    if (this.closed) return Promise.reject(new StreamBroken(this.closed));
    if (this.pending.has(req.id)) return Promise.reject(new Error(`request id ${req.id} is already waiting on the session stream to ${this.containerId}`));
    let line: string;
    try {
      line = encodeRequest(req);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    clearTimeout(this.idleTimer);
    this.socket.ref?.();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.close(`no reply to ${req.key} within ${replyWithinMs} ms`), replyWithinMs);
      this.pending.set(req.id, { key: req.key, resolve, reject, timer });
      this.socket.write(line);
    });
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Close the stream: every waiting request fails with StreamBroken; the server exits on EOF. */
  close(reason: string): void {
    if (this.closed) return;
    const partial = this.lineBuffer + this.decoder.end();
    this.lineBuffer = '';
    if (partial.trim()) reason += `, with a truncated line from the server: ${JSON.stringify(partial.slice(0, 200))}`;
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
    if (this.closed) return;
    this.lineBuffer += this.decoder.write(chunk);
    let newline: number;
    while (!this.closed && (newline = this.lineBuffer.indexOf('\n')) >= 0) {
      const line = this.lineBuffer.slice(0, newline);
      this.lineBuffer = this.lineBuffer.slice(newline + 1);
      if (line.trim()) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let message;
    try {
      message = parseSessionLine(line);
    } catch (err) {
      if (!(err instanceof MalformedReply)) throw err;
      this.close(err.message);
      return;
    }
    if (message.kind === 'hello') {
      if (this.hello || !this.helloReceived) {
        this.close('malformed reply from session.py: a second hello');
        return;
      }
      this.hello = message.hello;
      this.helloReceived(message.hello);
      return;
    }
    if (!this.hello) {
      this.close(`malformed reply from session.py: a reply before the hello (${JSON.stringify(line.slice(0, 200))})`);
      return;
    }
    const id = message.reply.id;
    if (id === null) {
      // Refused a line it could not read at all (only an error has no id): the two ends do not speak
      // the same protocol.
      this.close(`session.py could not read a request: ${message.kind === 'error' ? message.reply.error : ''}`);
      return;
    }
    const pending = this.pending.get(id);
    if (!pending) return; // a reply to a request that was given up on
    if (message.kind === 'reply' && message.reply.key !== pending.key) {
      this.close(`malformed reply from session.py: the reply to request ${id} is about ${JSON.stringify(message.reply.key)}, not ${JSON.stringify(pending.key)}`);
      return;
    }
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (message.kind === 'error') pending.reject(new StreamRequestError(message.reply.error));
    else pending.resolve(message.reply);
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
