import { ConfigError } from '../lib/config/load.js';
import { ConnectionSettingsError } from '../lib/temporal/connection.js';

/** Exit codes of the CLI contract. */
export const EXIT = { ok: 0, runFailed: 1, badInput: 2 } as const;

/** Bad flags or arguments: exit 2 with a message that says what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Human output goes to stderr, so stdout stays clean for --json. */
export function say(line: string): void {
  process.stderr.write(line + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function exitCodeFor(err: unknown): number {
  return err instanceof UsageError || err instanceof ConfigError || err instanceof ConnectionSettingsError ? EXIT.badInput : EXIT.runFailed;
}

export function parseIntFlag(name: string, value: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} expects an integer >= ${min}, got "${value}"`);
  return n;
}
