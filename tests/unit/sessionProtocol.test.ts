import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/home.js';
import {
  encodeRequest,
  MalformedReply,
  parseOneShotReply,
  parseSessionLine,
  sessionRequestSchema,
  type SessionRequest,
} from '../../lib/sandbox/sessionProtocol.js';
import { SessionStream, StreamBroken, StreamRequestError } from '../../lib/sandbox/sessionStream.js';

/** The in-container session's protocol, without Docker: the schemas, the bad replies, both transports' parsing. */

const request: SessionRequest = { id: 7, key: 'step-3', command: 'echo hi', timeout_s: 30, wait_s: 2, cap: 20_000 };
const running = { id: 7, key: 'step-3', started: true, output_file: '/home/agent/.mlgym/cmds/step-3/output.log', state: 'running' };
const done = {
  ...running,
  state: 'done',
  exit_code: 0,
  timed_out: false,
  lost: false,
  duration_s: 0.012,
  output: 'hi\n',
  output_chars: 3,
  truncated: false,
  cwd: '/home/agent/workspace',
  open_file: null,
};
const line = (value: unknown) => JSON.stringify(value);

/** The problem a bad line is reported with (the MalformedReply's `problem`). */
function problemOf(text: string): string {
  try {
    parseSessionLine(text);
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedReply);
    return (err as MalformedReply).problem;
  }
  throw new Error(`accepted: ${text}`);
}

describe('the request', () => {
  it('is one JSON line, the same object on either transport', () => {
    const encoded = encodeRequest(request);
    expect(encoded.endsWith('\n')).toBe(true);
    expect(encoded.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(encoded)).toEqual(request);
    expect(encodeRequest({ ...request, command: 'a\nb\n' }).split('\n')).toHaveLength(2);
  });

  it.each([
    ['an empty key', { key: '' }, 'key'],
    ['the key .', { key: '.' }, 'key'],
    ['the key ..', { key: '..' }, 'key'],
    ['a key with a slash', { key: 'a/b' }, 'key'],
    ['a key with a space', { key: 'a b' }, 'key'],
    ['a non-ASCII key', { key: 'schritt-ä' }, 'key'],
    ['a key too long', { key: 'k'.repeat(201) }, 'key'],
    ['a zero timeout', { timeout_s: 0 }, 'timeout_s'],
    ['an infinite timeout', { timeout_s: Infinity }, 'timeout_s'],
    ['a negative wait', { wait_s: -1 }, 'wait_s'],
    ['a fractional cap', { cap: 1.5 }, 'cap'],
    ['a zero cap', { cap: 0 }, 'cap'],
    ['a negative id', { id: -1 }, 'id'],
    ['a command that is not text', { command: 5 }, 'command'],
    ['a missing command', { command: undefined }, 'command'],
    ['an unknown field', { timeout: 3 }, ''],
  ])('refuses %s', (_name, change, path) => {
    const result = sessionRequestSchema.safeParse({ ...request, ...change });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join('.')).toBe(path);
    expect(() => encodeRequest({ ...request, ...change } as SessionRequest)).toThrow();
  });

  it('accepts keys of letters, digits, dots, dashes and underscores', () => {
    for (const key of ['step-0', 'bench-once-3-1', 'a.b_c', '.hidden1', 'k'.repeat(200)]) expect(sessionRequestSchema.safeParse({ ...request, key }).success).toBe(true);
  });
});

describe('a line from the session', () => {
  it('is a hello, a running or done command, or a refusal', () => {
    expect(parseSessionLine(line({ hello: { pid: 42, boot: '1234' } }))).toEqual({ kind: 'hello', hello: { pid: 42, boot: '1234' } });
    expect(parseSessionLine(line(running))).toEqual({ kind: 'reply', reply: running });
    expect(parseSessionLine(line(done))).toEqual({ kind: 'reply', reply: done });
    const lost = { ...done, exit_code: null, lost: true, duration_s: null, output: '', output_chars: 0 };
    expect(parseSessionLine(line(lost))).toEqual({ kind: 'reply', reply: lost });
    expect(parseSessionLine(line({ id: 7, error: 'bad request: cap: missing' }))).toEqual({ kind: 'error', reply: { id: 7, error: 'bad request: cap: missing' } });
    expect(parseSessionLine(line({ id: null, error: 'bad request: not JSON' }))).toMatchObject({ kind: 'error', reply: { id: null } });
  });

  it.each([
    ['garbage', 'Traceback (most recent call last):', /^not JSON/],
    ['a truncated line', line(done).slice(0, 60), /^not JSON/],
    ['an empty object', '{}', /^state: missing/],
    ['an array', '[1, 2]', /^expected a JSON object, got an array$/],
    ['null', 'null', /^expected a JSON object, got null$/],
    ['a number', '42', /^expected a JSON object, got number$/],
    ['a missing field', line({ ...done, timed_out: undefined }), /^timed_out: missing \(expected boolean\)$/],
    ['a missing id', line({ ...running, id: undefined }), /^id: missing/],
    ['an exit code that is text', line({ ...done, exit_code: 'zero' }), /^exit_code: expected number, received string$/],
    ['a fractional exit code', line({ ...done, exit_code: 1.5 }), /^exit_code: expected int/],
    ['output that is not text', line({ ...done, output: ['a'] }), /^output: expected string, received array$/],
    ['an open file that is a number', line({ ...done, open_file: 3 }), /^open_file: expected string, received number$/],
    ['an unknown state', line({ ...done, state: 'finished' }), /^state: /],
    ['a running reply without its output file', line({ ...running, output_file: undefined }), /^output_file: missing/],
    ['a refusal whose error is not text', line({ id: 7, error: 5 }), /^error: expected string, received number$/],
    ['a hello without a boot mark', line({ hello: { pid: 42 } }), /^hello\.boot: missing/],
    ['a hello with a text pid', line({ hello: { pid: 'x', boot: '1' } }), /^hello\.pid: expected number/],
  ])('refuses %s, naming what is wrong', (_name, text, problem) => {
    expect(problemOf(text)).toMatch(problem);
  });

  it('names every wrong field and quotes the start of the line', () => {
    const bad = line({ ...done, exit_code: 'zero', truncated: 'no', cwd: undefined, output: 'x'.repeat(1000) });
    let error: MalformedReply | undefined;
    try {
      parseSessionLine(bad);
    } catch (err) {
      error = err as MalformedReply;
    }
    expect(error!.problem).toBe('exit_code: expected number, received string; truncated: expected boolean, received string; cwd: missing (expected string)');
    expect(error!.message).toContain('malformed reply from session.py: exit_code');
    expect(error!.excerpt.length).toBeLessThanOrEqual(301);
    expect(bad.startsWith(error!.excerpt.slice(0, -1))).toBe(true);
  });
});

describe('the reply to a one-shot exec', () => {
  const out = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });
  const problem = (o: ReturnType<typeof out>) => {
    try {
      parseOneShotReply(o, request);
    } catch (err) {
      expect(err).toBeInstanceOf(MalformedReply);
      return (err as MalformedReply).problem;
    }
    throw new Error('accepted');
  };

  it('is one complete line for the request it was given', () => {
    expect(parseOneShotReply(out(line(done) + '\n'), request)).toEqual(done);
    expect(parseOneShotReply(out(line(running) + '\n'), request)).toEqual(running);
    expect(parseOneShotReply(out(line({ id: 7, error: 'bad request: key: invalid' }) + '\n', 0), request)).toEqual({ id: 7, error: 'bad request: key: invalid' });
    // A request it could not read at all is refused without an id: still the answer to that one request.
    expect(parseOneShotReply(out(line({ id: null, error: 'bad request: not JSON' }) + '\n'), request)).toEqual({ id: null, error: 'bad request: not JSON' });
  });

  it('with no output at all names the exit code and stderr', () => {
    expect(problem(out('', 1, 'usage: session.py run < request lines\n'))).toBe('no reply (session.py exited with 1; stderr: usage: session.py run < request lines)');
    expect(problem(out('', 137))).toBe('no reply (session.py exited with 137)');
  });

  it('cut short (no end of line) is truncated, even when what came parses', () => {
    expect(problem(out(line(done).slice(0, 80), 137))).toBe('a truncated reply: no end of line (session.py exited with 137)');
    expect(problem(out(line(done)))).toMatch(/^a truncated reply/);
  });

  it('is refused when it is more than one line, a hello, a reply to another request, or malformed', () => {
    expect(problem(out(`${line(done)}\n${line(done)}\n`))).toBe('2 lines instead of one reply');
    expect(problem(out(`warning: something\n${line(done)}\n`))).toBe('2 lines instead of one reply');
    expect(problem(out(`${line({ hello: { pid: 1, boot: '1' } })}\n`))).toBe('a hello instead of a reply');
    expect(problem(out(`${line({ ...done, id: 8 })}\n`))).toBe('the reply is to request 8, not 7');
    expect(problem(out(`${line({ ...done, key: 'step-4' })}\n`))).toBe('the reply is about "step-4", not "step-3"');
    expect(problem(out(`${line({ ...done, lost: 'no' })}\n`))).toBe('lost: expected boolean, received string');
    expect(problem(out('garbage\n'))).toMatch(/^not JSON/);
  });
});

/** A socket standing in for the attached stream of `docker exec session.py serve`. */
class FakeSocket extends Duplex {
  readonly written: string[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.written.push(chunk.toString('utf8'));
    done();
  }
  /** Bytes on the server's stdout (stream 1) or stderr (2), in Docker's multiplexed framing. */
  serverWrites(data: string | Buffer, stream = 1): void {
    const payload = Buffer.from(data);
    const header = Buffer.alloc(8);
    header.writeUInt8(stream, 0);
    header.writeUInt32BE(payload.length, 4);
    this.push(Buffer.concat([header, payload]));
  }
}

const HELLO = line({ hello: { pid: 99, boot: '555' } }) + '\n';
const tick = () => new Promise((r) => setImmediate(r));

async function openFake(): Promise<{ socket: FakeSocket; stream: SessionStream }> {
  const socket = new FakeSocket();
  const opening = SessionStream.attach('fake-container', socket);
  socket.serverWrites(HELLO);
  return { socket, stream: await opening };
}

describe('the session stream', () => {
  it('opens on the hello and sends a request as the very line a one-shot exec gets on stdin', async () => {
    const { socket, stream } = await openFake();
    expect(stream.hello).toEqual({ pid: 99, boot: '555' });
    const reply = stream.request(request, 60_000);
    expect(socket.written).toEqual([encodeRequest(request)]);
    socket.serverWrites(line(done) + '\n');
    expect(await reply).toEqual(done);
    stream.close('test over');
  });

  it('matches replies to requests by id, in whatever order they come, across frames', async () => {
    const { socket, stream } = await openFake();
    const first = stream.request(request, 60_000);
    const second = stream.request({ ...request, id: 8, key: 'step-4' }, 60_000);
    const other = line({ ...done, id: 8, key: 'step-4', output: 'grüße\n' }) + '\n';
    // The second reply first, split inside a multi-byte character; then the first.
    const bytes = Buffer.from(other);
    const cut = bytes.indexOf(Buffer.from('ü')) + 1;
    socket.serverWrites(bytes.subarray(0, cut));
    socket.serverWrites(Buffer.concat([bytes.subarray(cut), Buffer.from(line(running) + '\n')]));
    expect(await second).toMatchObject({ id: 8, output: 'grüße\n' });
    expect(await first).toEqual(running);
    expect(stream.closed).toBeUndefined();
    stream.close('test over');
  });

  it('breaks on a malformed reply: every waiting request fails as a transport failure naming the problem', async () => {
    const { socket, stream } = await openFake();
    const first = stream.request(request, 60_000);
    const second = stream.request({ ...request, id: 8, key: 'step-4' }, 60_000);
    socket.serverWrites(line({ ...done, exit_code: 'zero' }) + '\n');
    for (const pending of [first, second]) {
      const err = await pending.catch((e: Error) => e);
      expect(err).toBeInstanceOf(StreamBroken);
      expect((err as Error).message).toMatch(/broke: malformed reply from session\.py: exit_code: expected number, received string/);
    }
    expect(stream.closed).toMatch(/exit_code/);
    expect(socket.destroyed).toBe(true);
    // Nothing more goes over a broken stream.
    await expect(stream.request({ ...request, id: 9 }, 60_000)).rejects.toBeInstanceOf(StreamBroken);
    expect(socket.written).toHaveLength(2);
  });

  it.each([
    ['garbage', 'Traceback (most recent call last):\n', /not JSON/],
    ['a reply missing a field', line({ ...done, output: undefined }) + '\n', /output: missing \(expected string\)/],
    ['a second hello', HELLO, /a second hello/],
    ['a reply about another key', line({ ...done, key: 'step-4' }) + '\n', /the reply to request 7 is about "step-4", not "step-3"/],
    ['a refusal of a line it could not read', line({ id: null, error: 'bad request: not JSON' }) + '\n', /could not read a request: bad request: not JSON/],
  ])('breaks on %s', async (_name, text, reason) => {
    const { socket, stream } = await openFake();
    const pending = stream.request(request, 60_000);
    socket.serverWrites(text);
    const err = await pending.catch((e: Error) => e);
    expect(err).toBeInstanceOf(StreamBroken);
    expect((err as Error).message).toMatch(reason);
  });

  it('breaks when it ends in the middle of a reply, and says the line was truncated', async () => {
    const { socket, stream } = await openFake();
    const pending = stream.request(request, 60_000);
    socket.serverWrites(line(done).slice(0, 50));
    await tick();
    socket.push(null);
    const err = await pending.catch((e: Error) => e);
    expect(err).toBeInstanceOf(StreamBroken);
    expect((err as Error).message).toMatch(/the session server closed its stream, with a truncated line from the server: "\{\\"id\\":7,/);
  });

  it('passes a refusal of one request to that request only, and stays open', async () => {
    const { socket, stream } = await openFake();
    const refused = stream.request(request, 60_000);
    const fine = stream.request({ ...request, id: 8, key: 'step-4' }, 60_000);
    socket.serverWrites(line({ id: 7, error: 'bad request: cap: missing' }) + '\n');
    await expect(refused).rejects.toBeInstanceOf(StreamRequestError);
    socket.serverWrites(line({ ...done, id: 8, key: 'step-4' }) + '\n');
    expect(await fine).toMatchObject({ id: 8, state: 'done' });
    expect(stream.closed).toBeUndefined();
    stream.close('test over');
  });

  it('does not send a request that is not valid', async () => {
    const { socket, stream } = await openFake();
    await expect(stream.request({ ...request, key: '../x' }, 60_000)).rejects.toThrow(/key/);
    expect(socket.written).toEqual([]);
    expect(stream.closed).toBeUndefined();
    stream.close('test over');
  });

  it.each([
    ['a malformed hello', line({ hello: { pid: 'x', boot: '1' } }) + '\n', /did not open: malformed reply from session\.py: hello\.pid: expected number/],
    ['a reply before the hello', line(done) + '\n', /did not open: malformed reply from session\.py: a reply before the hello/],
    ['garbage instead of a hello', 'python3: can\'t open file\n', /did not open: malformed reply from session\.py: not JSON/],
  ])('does not open on %s', async (_name, text, reason) => {
    const socket = new FakeSocket();
    const opening = SessionStream.attach('fake-container', socket);
    socket.serverWrites(text);
    await expect(opening).rejects.toThrow(reason);
    expect(socket.destroyed).toBe(true);
  });

  it('does not open when the server exits first, and passes on its stderr', async () => {
    const socket = new FakeSocket();
    const opening = SessionStream.attach('fake-container', socket);
    socket.serverWrites('usage: session.py run < request lines | session.py serve\n', 2);
    await tick();
    socket.push(null);
    await expect(opening).rejects.toThrow(/did not open: the session server closed its stream: usage: session\.py/);
  });
});

/**
 * session.py itself, on this machine in a scratch home (its standard library only; no container):
 * it checks requests by the same rules as the zod schema, and what it writes parses.
 */
describe('session.py and the schemas', () => {
  const runtime = join(repoRoot, 'docker', 'runtime');
  const home = mkdtempSync(join(tmpdir(), 'mlgym-session-'));
  mkdirSync(join(home, 'workspace'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const env = { ...process.env, HOME: home };
  const sessionRun = (stdin: string) => {
    try {
      return { exitCode: 0, stdout: execFileSync('python3', [join(runtime, 'session.py'), 'run'], { input: stdin, env, encoding: 'utf8' }), stderr: '' };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { exitCode: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  };

  const oneShot = (req: SessionRequest) => parseOneShotReply(sessionRun(encodeRequest(req)), req);

  it('refuses exactly the requests the schema refuses', () => {
    const candidates: unknown[] = [
      request,
      { ...request, key: '.' },
      { ...request, key: '..' },
      { ...request, key: 'a/b' },
      { ...request, key: 'schritt-ä' },
      { ...request, key: 'k'.repeat(200) },
      { ...request, key: 'k'.repeat(201) },
      { ...request, key: 5 },
      { ...request, timeout_s: 0 },
      { ...request, timeout_s: 0.5 },
      { ...request, wait_s: 0 },
      { ...request, wait_s: -0.1 },
      { ...request, cap: 1.5 },
      { ...request, cap: true },
      { ...request, id: -1 },
      { ...request, id: 1.5 },
      { ...request, command: null },
      { ...request, extra: 1 },
      { id: 1, key: 'k' },
      [request],
    ];
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(runtime)})`,
      'import session',
      'for line in sys.stdin:',
      '    req, error = session.parse_request(line)',
      '    print(json.dumps(error))',
    ].join('\n');
    const verdicts = execFileSync('python3', ['-c', script], { input: candidates.map((c) => JSON.stringify(c)).join('\n') + '\n', env, encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(verdicts).toHaveLength(candidates.length);
    for (const [i, candidate] of candidates.entries()) {
      const refusal = verdicts[i];
      expect({ candidate, refused: refusal !== null }).toEqual({ candidate, refused: !sessionRequestSchema.safeParse(candidate).success });
      // A refusal is itself a valid reply.
      if (refusal !== null) expect(parseSessionLine(JSON.stringify(refusal)).kind).toBe('error');
    }
  });

  it('answers a one-shot request with a reply the schema accepts, and re-attaches by key', () => {
    const first = oneShot({ ...request, key: 'u1', command: 'echo one; cd /' });
    expect(first).toMatchObject({ state: 'done', started: true, exit_code: 0, output: 'one\n', cwd: '/', open_file: null, lost: false });
    const again = oneShot({ ...request, id: 8, key: 'u1', command: 'echo two' });
    expect(again).toMatchObject({ state: 'done', started: false, output: 'one\n' });
    // Still running when its wait is over; the next request for the key re-attaches and gets the end.
    expect(oneShot({ ...request, key: 'u5', command: `until [ -e ${join(home, 'go')} ]; do sleep 0.05; done; echo late`, wait_s: 0 })).toEqual({
      id: 7, key: 'u5', state: 'running', started: true, output_file: join(home, '.mlgym', 'cmds', 'u5', 'output.log'),
    });
    writeFileSync(join(home, 'go'), '');
    expect(oneShot({ ...request, key: 'u5', command: '', wait_s: 60 })).toMatchObject({ state: 'done', started: false, exit_code: 0, output: 'late\n' });
    const refused = parseOneShotReply(sessionRun('not json\n'), request);
    expect(refused).toMatchObject({ id: null, error: expect.stringMatching(/^bad request: not JSON/) });
    expect(() => parseOneShotReply(sessionRun(''), request)).toThrow(/no reply \(session\.py exited with 0\)/);
  });

  it('relays a tampered record as it is, and the schema names what is wrong', () => {
    oneShot({ ...request, key: 'u2' });
    writeFileSync(join(home, '.mlgym', 'cmds', 'u2', 'result.json'), JSON.stringify({ exit_code: 'zero', timed_out: false, duration_s: 0 }));
    expect(() => oneShot({ ...request, key: 'u2' })).toThrow(/exit_code: expected number, received string/);
  });

  it('keeps replies valid when the tools state holds something else than a file name', () => {
    writeFileSync(join(home, '.mlgym', 'tool_state.json'), JSON.stringify({ open_file: 42 }));
    expect(oneShot({ ...request, key: 'u3', command: 'true' })).toMatchObject({ state: 'done', open_file: null });
    writeFileSync(join(home, '.mlgym', 'tool_state.json'), '[1, 2]');
    expect(oneShot({ ...request, key: 'u4', command: 'true' })).toMatchObject({ state: 'done', open_file: null });
  });
});
