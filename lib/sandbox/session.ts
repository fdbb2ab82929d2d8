import { RUNTIME_DIR } from './docker.js';
import { execIn } from './exec.js';
import { sessionStream, StreamBroken, StreamRequestError } from './sessionStream.js';

export interface CommandResult {
  key: string;
  state: 'running' | 'done';
  /** True when this call started the command; false when it re-attached to an earlier start. */
  started: boolean;
  exit_code?: number | null;
  timed_out?: boolean;
  lost?: boolean;
  duration_s?: number;
  output?: string;
  output_chars?: number;
  truncated?: boolean;
  output_file: string;
  /** Where the next command starts, and the file the tools have open (set when done). */
  cwd?: string;
  open_file?: string | null;
}

export class SessionError extends Error {
  constructor(message: string) {
    super(message);
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

/**
 * Start the command under `key` (or re-attach to it) in the container's session and wait up to
 * `waitS` seconds for it. Calling again with the same key never starts it twice.
 *
 * The request goes over the container's session stream when one is open (or can be opened); if the
 * stream breaks before the reply, the same request is made again with one `docker exec`, which
 * re-attaches to the command if the stream's server had started it.
 */
export async function runInSession(containerId: string, key: string, command: string, opts: SessionOptions): Promise<CommandResult> {
  const cap = opts.capChars ?? 10_000;
  if (!opts.oneShot) {
    const stream = await sessionStream(containerId);
    if (stream) {
      try {
        const { id: _id, ...reply } = await stream.request({ key, command, timeout_s: opts.timeoutS, wait_s: opts.waitS, cap }, opts.waitS * 1000 + REPLY_SLACK_MS);
        return reply as unknown as CommandResult;
      } catch (err) {
        if (err instanceof StreamRequestError) throw new SessionError(`session.py refused the request: ${err.message}`);
        if (!(err instanceof StreamBroken)) throw err;
      }
    }
  }
  return runOneShot(containerId, key, command, opts.timeoutS, opts.waitS, cap);
}

/** One `docker exec session.py run ...` for one request. */
async function runOneShot(containerId: string, key: string, command: string, timeoutS: number, waitS: number, cap: number): Promise<CommandResult> {
  const args = ['python3', `${RUNTIME_DIR}/session.py`, 'run', key, String(timeoutS), String(waitS), String(cap)];
  const result = await execIn(containerId, args, { stdin: command });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as CommandResult;
  } catch {
    throw new SessionError(`session.py failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).slice(-2000)}`);
  }
}
