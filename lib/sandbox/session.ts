import { RUNTIME_DIR } from './docker.js';
import { execIn } from './exec.js';
import { sessionStream, StreamBroken, StreamRequestError } from './sessionStream.js';
import {
  describeIssues,
  encodeRequest,
  MalformedReply,
  parseOneShotReply,
  sessionRequestSchema,
  sweepReplySchema,
  type DoneReply,
  type RunningReply,
  type SessionRequest,
} from './sessionProtocol.js';

/**
 * A command as the session reports it (a reply of lib/sandbox/sessionProtocol.ts, checked): narrow on
 * `state`; while it runs, the fields of a finished command read as undefined.
 */
export type CommandResult = DoneReply | (RunningReply & { [K in Exclude<keyof DoneReply, keyof RunningReply>]?: undefined });

export class SessionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionError';
  }
}

export interface SessionOptions {
  timeoutS: number;
  waitS: number;
  capChars?: number;
  /** Use one `docker exec` for this call even when a session stream could be used (the fallback path). */
  oneShot?: boolean;
}

/** Slack on top of `waitS` for a reply over the stream before it counts as broken. */
const REPLY_SLACK_MS = 5_000;

/** Request ids, unique in this process: a request keeps its id on whichever transport carries it. */
let nextRequestId = 1;

/**
 * Start the command under `key` (or re-attach to it) in the container's session and wait up to
 * `waitS` seconds for it. Calling again with the same key never starts it twice.
 *
 * The request goes over the container's session stream when one is open (or can be opened); if the
 * stream breaks before the reply, or its server writes a malformed reply, the same request is made
 * again with one `docker exec`, which re-attaches to the command if the stream's server had started it.
 * A malformed reply to the one-shot exec is a SessionError (the activity's retry asks again by key).
 */
export async function runInSession(containerId: string, key: string, command: string, opts: SessionOptions): Promise<CommandResult> {
  const request = newRequest({ key, command, timeout_s: opts.timeoutS, wait_s: opts.waitS, cap: opts.capChars ?? 10_000 });
  let streamFailure: string | undefined;
  if (!opts.oneShot) {
    const stream = await sessionStream(containerId);
    if (stream) {
      try {
        return await stream.request(request, opts.waitS * 1000 + REPLY_SLACK_MS);
      } catch (err) {
        if (err instanceof StreamRequestError) throw new SessionError(`session.py refused the request for ${key}: ${err.message}`);
        if (!(err instanceof StreamBroken)) throw err;
        streamFailure = err.message;
      }
    }
  }
  return runOneShot(containerId, request, streamFailure);
}

/** A checked request with a new id; a request session.py would refuse is a SessionError here. */
function newRequest(fields: Omit<SessionRequest, 'id'>): SessionRequest {
  const request = { id: nextRequestId++, ...fields };
  const checked = sessionRequestSchema.safeParse(request);
  if (!checked.success) throw new SessionError(`bad session request for ${JSON.stringify(fields.key)}: ${describeIssues(checked.error, request)}`);
  return checked.data;
}

/** One `docker exec session.py run` for one request (the same request line as over the stream). */
async function runOneShot(containerId: string, request: SessionRequest, streamFailure: string | undefined): Promise<CommandResult> {
  const out = await execIn(containerId, ['python3', `${RUNTIME_DIR}/session.py`, 'run'], { stdin: encodeRequest(request) });
  let reply;
  try {
    reply = parseOneShotReply(out, request);
  } catch (err) {
    if (!(err instanceof MalformedReply)) throw err;
    const after = streamFailure ? ` (asked again after: ${streamFailure})` : '';
    throw new SessionError(`one-shot session exec for ${request.key} in ${containerId.slice(0, 12)}: ${err.message}${after}`, { cause: err });
  }
  if ('error' in reply) throw new SessionError(`session.py refused the request for ${request.key}: ${reply.error}`);
  return reply;
}

/**
 * Kill every process in the container that outlived its command (`session.py sweep`): one started to
 * leave the command's session (`setsid`, a daemon) would otherwise go on computing past the command's time
 * limit, and change the workspace while it is snapshotted and graded. Call it only when no command of the
 * run is awaited. Returns how many it stopped; processes it could not stop are a SessionError.
 */
export async function endStrayProcesses(containerId: string): Promise<number> {
  const out = await execIn(containerId, ['python3', `${RUNTIME_DIR}/session.py`, 'sweep']);
  let reply;
  try {
    reply = sweepReplySchema.parse(JSON.parse(out.stdout.trim().split('\n').at(-1) ?? ''));
  } catch {
    throw new SessionError(`session.py sweep in ${containerId.slice(0, 12)} exited with ${out.exitCode} and printed no count: ${(out.stderr || out.stdout).trim().slice(-500)}`);
  }
  if (reply.left > 0) throw new SessionError(`session.py sweep in ${containerId.slice(0, 12)} could not stop ${reply.left} process(es) that outlived their command`);
  return reply.stopped;
}
