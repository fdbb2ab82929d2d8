import { RUNTIME_DIR } from './docker.js';
import { execIn } from './exec.js';

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

/**
 * Start the command under `key` (or re-attach to it) in the container's session and wait up to
 * `waitS` seconds for it. Calling again with the same key never starts it twice.
 */
export async function runInSession(containerId: string, key: string, command: string, opts: { timeoutS: number; waitS: number; capChars?: number }): Promise<CommandResult> {
  const args = ['python3', `${RUNTIME_DIR}/session.py`, 'run', key, String(opts.timeoutS), String(opts.waitS), String(opts.capChars ?? 10_000)];
  const result = await execIn(containerId, args, { stdin: command });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as CommandResult;
  } catch {
    throw new SessionError(`session.py failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).slice(-2000)}`);
  }
}
