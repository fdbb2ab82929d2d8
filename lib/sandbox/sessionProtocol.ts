import { z } from 'zod';

/**
 * The protocol of the in-container session (docker/runtime/session.py), as zod schemas: one request
 * format for both transports, and every line the session writes checked here, at the boundary.
 *
 * A request is one JSON object on one line, the same whether it goes over the session stream
 * (`session.py serve`, lib/sandbox/sessionStream.ts) or to a one-shot `docker exec session.py run`
 * (lib/sandbox/session.ts): {"id", "key", "command", "timeout_s", "wait_s", "cap"}. The session answers
 * each request with one line carrying its id: the command still running, the command done, or an
 * error (the request was refused). `serve` writes {"hello": {"pid", "boot"}} first.
 *
 * A line that is not one of these (not JSON, a missing field, a wrong type, a line cut short) is a
 * MalformedReply: the transport failed, and the caller asks again under the same idempotency key,
 * which re-attaches to the command instead of running it again.
 */

/** A command's idempotency key; also a directory name in the container: never `.` or `..`, no `/`. */
export const KEY_PATTERN = /^[A-Za-z0-9._-]*[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_KEY_LENGTH = 200;

const requestId = z.number().int().nonnegative();

/** What both transports send (session.py's `parse_request` checks the same rules). */
export const sessionRequestSchema = z.strictObject({
  /** Matches the reply to the request (several can be in flight on one stream). */
  id: requestId,
  key: z.string().max(MAX_KEY_LENGTH).regex(KEY_PATTERN, "letters, digits, '.', '_' and '-', with at least one letter or digit"),
  /** Run only by the first request for the key; ignored when re-attaching. */
  command: z.string(),
  /** The command is killed, with every process it started, after this many seconds. */
  timeout_s: z.number().positive(),
  /** Wait at most this long for the command before replying that it is still running. */
  wait_s: z.number().nonnegative(),
  /** Characters of output in the reply (the whole output stays in `output_file`). */
  cap: z.number().int().positive(),
});
export type SessionRequest = z.infer<typeof sessionRequestSchema>;

/** The bytes a request is sent as, on either transport. */
export function encodeRequest(request: SessionRequest): string {
  return JSON.stringify(sessionRequestSchema.parse(request)) + '\n';
}

/** The first line of `session.py serve`: its process and the container's boot mark. */
export const helloSchema = z.object({ hello: z.object({ pid: z.number().int().positive(), boot: z.string().min(1) }) });
export type Hello = z.infer<typeof helloSchema>['hello'];

const replyBase = {
  id: requestId,
  key: z.string(),
  /** True when this request started the command; false when it re-attached to an earlier start. */
  started: z.boolean(),
  /** The command's whole output, in the container. */
  output_file: z.string(),
};

export const runningReplySchema = z.object({ ...replyBase, state: z.literal('running') });

export const doneReplySchema = z.object({
  ...replyBase,
  state: z.literal('done'),
  /** Null when the command was lost (its runner died with the container). */
  exit_code: z.number().int().nullable(),
  timed_out: z.boolean(),
  lost: z.boolean(),
  duration_s: z.number().nonnegative().nullable(),
  output: z.string(),
  output_chars: z.number().int().nonnegative(),
  truncated: z.boolean(),
  /** Where the next command starts, and the file the tools have open. */
  cwd: z.string(),
  open_file: z.string().nullable(),
});

/** What `session.py sweep` prints: the processes it killed, and those it could not (still forking after 5 s). */
export const sweepReplySchema = z.strictObject({ stopped: z.number().int().nonnegative(), left: z.number().int().nonnegative() });
export type SweepReply = z.infer<typeof sweepReplySchema>;

/** The request was refused (id null when the session could not read it at all). */
export const errorReplySchema = z.object({ id: requestId.nullable(), error: z.string() });

export const commandReplySchema = z.discriminatedUnion('state', [runningReplySchema, doneReplySchema]);

export type RunningReply = z.infer<typeof runningReplySchema>;
export type DoneReply = z.infer<typeof doneReplySchema>;
export type CommandReply = z.infer<typeof commandReplySchema>;
export type ErrorReply = z.infer<typeof errorReplySchema>;

/** A line from the session, checked. */
export type SessionMessage = { kind: 'hello'; hello: Hello } | { kind: 'reply'; reply: CommandReply } | { kind: 'error'; reply: ErrorReply };

/** A line from the session that is not a message of the protocol: the transport failed. */
export class MalformedReply extends Error {
  constructor(
    /** What was wrong, e.g. `exit_code: expected number, received string`. */
    readonly problem: string,
    /** The start of the offending line (or output). */
    readonly excerpt: string,
  ) {
    super(`malformed reply from session.py: ${problem}${excerpt ? ` (in ${JSON.stringify(excerpt)})` : ''}`);
    this.name = 'MalformedReply';
  }
}

const EXCERPT_CHARS = 300;
const excerptOf = (text: string) => (text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text);

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** The issues of a failed parse, one `path: what` each, e.g. `timed_out: missing (expected boolean)`. */
export function describeIssues(error: z.ZodError, data: unknown): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length ? issue.path.map(String).join('.') : '(the line)';
      const message = issue.message.replace(/^Invalid input: /, '');
      if (issue.path.length && valueAt(data, issue.path) === undefined) return `${path}: missing (${issue.code === 'invalid_type' ? `expected ${issue.expected}` : message})`;
      return `${path}: ${message}`;
    })
    .join('; ');
}

function check<T>(schema: z.ZodType<T>, data: unknown, line: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new MalformedReply(describeIssues(parsed.error, data), excerptOf(line));
  return parsed.data;
}

/** One line from the session (without its newline), checked; throws MalformedReply. */
export function parseSessionLine(line: string): SessionMessage {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (err) {
    throw new MalformedReply(`not JSON (${(err as Error).message})`, excerptOf(line));
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new MalformedReply(`expected a JSON object, got ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}`, excerptOf(line));
  }
  if ('hello' in data) return { kind: 'hello', hello: check(helloSchema, data, line).hello };
  if ('error' in data) return { kind: 'error', reply: check(errorReplySchema, data, line) };
  return { kind: 'reply', reply: check(commandReplySchema, data, line) };
}

/** The output of a one-shot `session.py run` (lib/sandbox/exec.ts's ExecResult). */
export interface OneShotOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The reply to the one request a one-shot `session.py run` was given: exactly one complete line on
 * its stdout, a command reply (for that request's id and key) or an error. Anything else throws MalformedReply
 * (with the exit code and stderr when there is no reply at all).
 */
export function parseOneShotReply(out: OneShotOutput, request: Pick<SessionRequest, 'id' | 'key'>): CommandReply | ErrorReply {
  const stderr = out.stderr.trim() ? `; stderr: ${out.stderr.trim().slice(-2000)}` : '';
  if (out.stdout === '') throw new MalformedReply(`no reply (session.py exited with ${out.exitCode}${stderr})`, '');
  if (!out.stdout.endsWith('\n')) throw new MalformedReply(`a truncated reply: no end of line (session.py exited with ${out.exitCode}${stderr})`, excerptOf(out.stdout));
  const lines = out.stdout.slice(0, -1).split('\n');
  if (lines.length !== 1) throw new MalformedReply(`${lines.length} lines instead of one reply`, excerptOf(out.stdout));
  const line = lines[0]!;
  const message = parseSessionLine(line);
  if (message.kind === 'hello') throw new MalformedReply('a hello instead of a reply', excerptOf(line));
  // An error for no id: the session could not read the request (the only one it was given).
  if (message.kind === 'error' && message.reply.id === null) return message.reply;
  if (message.reply.id !== request.id) throw new MalformedReply(`the reply is to request ${message.reply.id}, not ${request.id}`, excerptOf(line));
  if (message.kind === 'reply' && message.reply.key !== request.key) throw new MalformedReply(`the reply is about ${JSON.stringify(message.reply.key)}, not ${JSON.stringify(request.key)}`, excerptOf(line));
  return message.reply;
}
