import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { removeRunResources } from '../../lib/sandbox/container.js';
import { docker } from '../../lib/sandbox/docker.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { runInSession, SessionError, type CommandResult } from '../../lib/sandbox/session.js';
import { closeSessionStreams, openSessionStream, type SessionStream } from '../../lib/sandbox/sessionStream.js';
import { createActivities } from '../../activities/index.js';
import type { ProvisionResult } from '../../lib/run/types.js';

/**
 * The session stream (one long-lived `session.py serve` per container) is only a transport: whatever
 * happens to it, a command runs once, and the caller gets its result over the one-shot exec instead.
 */
const activities = createActivities({ store: new ArtifactStore() });
const runs: string[] = [];

async function newContainer(): Promise<string> {
  const runId = `test-stream-${randomBytes(4).toString('hex')}`;
  runs.push(runId);
  const { containerId } = (await new MockActivityEnvironment().run(activities.provision, { runId, taskId: 'sandboxProbe', model: 'test' })) as ProvisionResult;
  return containerId;
}

const sh = async (containerId: string, script: string) => (await execIn(containerId, ['bash', '-c', script])).stdout.trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const key = () => `s${n++}`;
const run = (containerId: string, command: string, opts: { waitS?: number; oneShot?: boolean } = {}) =>
  runInSession(containerId, key(), command, { timeoutS: 30, waitS: opts.waitS ?? 20, oneShot: opts.oneShot });

/** The container's open stream (runs a command first so that there is one). */
async function streamOf(containerId: string): Promise<SessionStream> {
  await run(containerId, 'true');
  const stream = await openSessionStream(containerId);
  expect(stream?.hello?.pid).toBeGreaterThan(0);
  return stream!;
}

/** True while a process with this pid exists in the container. */
async function alive(containerId: string, pid: number): Promise<boolean> {
  return (await sh(containerId, `kill -0 ${pid} 2>/dev/null && echo yes || echo no`)) === 'yes';
}

/** Start a command that appends to a file once, then keeps running; break the transport while it runs. */
async function breakMidCommand(containerId: string, file: string, breakIt: (stream: SessionStream) => Promise<void>, waitS = 20): Promise<CommandResult> {
  const stream = await streamOf(containerId);
  const k = key();
  const pending = runInSession(containerId, k, `echo ran >> ~/${file}; sleep 3; echo finished`, { timeoutS: 30, waitS });
  // Wait until the command has started in the container, then break the stream under it.
  while ((await sh(containerId, `cat ~/${file} 2>/dev/null | wc -l`)) !== '1') await sleep(100);
  await breakIt(stream);
  const result = await pending;
  expect(await sh(containerId, `cat ~/${file}; grep -c '^${k}$' ~/.mlgym/starts.log`)).toBe('ran\n1');
  return result;
}

afterAll(async () => {
  await closeSessionStreams();
  for (const runId of runs) await removeRunResources(runId);
});

describe('the session stream', () => {
  let c: string;
  beforeAll(async () => {
    c = await newContainer();
  });

  it('carries commands, sharing cwd and variables with the one-shot path', async () => {
    const stream = await streamOf(c);
    await run(c, 'mkdir -p deep && cd deep && export VIA_STREAM=1');
    expect((await run(c, 'pwd; echo $VIA_STREAM', { oneShot: true })).output).toBe('/home/agent/workspace/deep\n1\n');
    await run(c, 'export VIA_EXEC=2', { oneShot: true });
    const out = await run(c, 'echo $VIA_EXEC; cd ~/workspace');
    expect(out.output).toBe('2\n');
    expect(out.cwd).toBe('/home/agent/workspace');
    // Still the same stream and the same server process: no exec per command.
    expect(await openSessionStream(c)).toBe(stream);
  });

  it('answers concurrent requests on one stream by id, each as soon as its command ends', async () => {
    const order: string[] = [];
    const slow = run(c, 'sleep 2; echo slow').then((r) => (order.push('slow'), r));
    const fast = run(c, 'echo fast').then((r) => (order.push('fast'), r));
    const [s, f] = await Promise.all([slow, fast]);
    expect([s.output, f.output]).toEqual(['slow\n', 'fast\n']);
    expect(order).toEqual(['fast', 'slow']);
  });

  it('reports a command still running after waitS, and re-attaches to it by key', async () => {
    const k = key();
    const first = await runInSession(c, k, 'sleep 2; echo late >> ~/late.txt; echo late', { timeoutS: 30, waitS: 0.2 });
    expect(first).toMatchObject({ state: 'running', started: true });
    let again = await runInSession(c, k, 'echo must not run', { timeoutS: 30, waitS: 20 });
    expect(again).toMatchObject({ state: 'done', started: false, exit_code: 0, output: 'late\n' });
    again = await runInSession(c, k, '', { timeoutS: 30, waitS: 1 });
    expect(again.output).toBe('late\n');
    expect(await sh(c, 'cat ~/late.txt')).toBe('late');
  });

  it('keeps timeouts (the whole process group is killed) and output caps', async () => {
    const out = await runInSession(c, key(), 'sleep 300 & (sleep 301 &) ; sleep 302', { timeoutS: 1, waitS: 20 });
    expect(out.timed_out).toBe(true);
    expect(await sh(c, 'ps -eo args | grep -c "^sleep 30[012]" || true')).toBe('0');
    const long = await runInSession(c, key(), 'seq 1 20000', { timeoutS: 20, waitS: 20, capChars: 1000 });
    expect(long).toMatchObject({ truncated: true, output_chars: 108894 });
    expect(long.output!.length).toBeLessThan(1200);
  });

  it('breaks on a malformed reply, asks again by key over the one-shot exec, and never runs the command twice', async () => {
    const k = key();
    expect(await runInSession(c, k, 'echo once >> ~/once.txt; echo once', { timeoutS: 30, waitS: 20 })).toMatchObject({ state: 'done', output: 'once\n' });
    const stream = await streamOf(c);
    // A command of the agent's overwrites the session's record of that earlier command with a bogus one.
    const record = `~/.mlgym/cmds/${k}/result.json`;
    await run(c, `printf '{"exit_code": "zero", "timed_out": false}' > ${record}`);
    const err = await runInSession(c, k, 'echo must not run >> ~/once.txt', { timeoutS: 30, waitS: 20 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SessionError);
    const message = (err as Error).message;
    expect(message).toMatch(/^one-shot session exec for s\d+ .*: malformed reply from session\.py: exit_code: expected number, received string \(in /);
    expect(message).toMatch(/asked again after: session stream to \w+ broke: malformed reply from session\.py: exit_code/);
    expect(stream.closed).toMatch(/^malformed reply from session\.py: exit_code: expected number/);
    expect(await sh(c, `cat ~/once.txt; grep -c '^${k}$' ~/.mlgym/starts.log`)).toBe('once\n1');
    // Once the record is sound again, the same key answers (as the activity's retry would ask), over a new stream.
    await run(c, `printf '{"exit_code": 0, "timed_out": false, "duration_s": 0.01}' > ${record}`);
    expect(await runInSession(c, k, 'echo must not run >> ~/once.txt', { timeoutS: 30, waitS: 20 })).toMatchObject({ state: 'done', started: false, exit_code: 0, output: 'once\n' });
    expect(await openSessionStream(c)).not.toBe(stream);
    expect(await sh(c, 'cat ~/once.txt')).toBe('once');
  });

  it('keeps its replies valid when the tools state file holds something else than a file name', async () => {
    await run(c, `echo '{"open_file": 42}' > ~/.mlgym/tool_state.json`);
    const stream = await streamOf(c);
    expect(await run(c, 'echo fine')).toMatchObject({ state: 'done', output: 'fine\n', open_file: null });
    expect(await run(c, 'echo fine', { oneShot: true })).toMatchObject({ state: 'done', output: 'fine\n', open_file: null });
    expect(await openSessionStream(c)).toBe(stream);
    await run(c, 'rm ~/.mlgym/tool_state.json');
  });

  it('falls back when the worker drops the stream mid-command, re-attaches and never runs the command twice', async () => {
    let serverPid = 0;
    const result = await breakMidCommand(c, 'dropped.txt', async (stream) => {
      serverPid = stream.hello!.pid;
      stream.close('test: the worker drops the stream');
    });
    expect(result).toMatchObject({ state: 'done', started: false, exit_code: 0, output: 'finished\n' });
    // The server saw its stdin close and exited; the command's runner was detached from it.
    for (let i = 0; i < 50 && (await alive(c, serverPid)); i++) await sleep(100);
    expect(await alive(c, serverPid)).toBe(false);
    // The next command opens a new stream.
    expect((await run(c, 'echo next')).output).toBe('next\n');
    expect((await openSessionStream(c))!.hello!.pid).not.toBe(serverPid);
  });

  it('falls back when the server process dies mid-command (killed in the container)', async () => {
    const result = await breakMidCommand(c, 'killed.txt', async (stream) => {
      await sh(c, `kill -9 ${stream.hello!.pid}`);
    });
    expect(result).toMatchObject({ state: 'done', started: false, exit_code: 0, output: 'finished\n' });
  });

  it('falls back when the server stops answering (no reply within waitS + slack)', async () => {
    let stopped = 0;
    const result = await breakMidCommand(c, 'hung.txt', async (stream) => {
      stopped = stream.hello!.pid;
      await sh(c, `kill -STOP ${stopped}`);
    }, 4);
    expect(result).toMatchObject({ state: 'done', started: false, exit_code: 0 });
    await sh(c, `kill -CONT ${stopped} 2>/dev/null; true`);
    expect((await openSessionStream(c))?.hello?.pid).not.toBe(stopped);
  });
});

describe('the session stream across a container restart', () => {
  it('breaks with the container; a command in flight is lost (not re-run) and the next one gets a new stream', async () => {
    const c = await newContainer();
    const before = await streamOf(c);
    const k = key();
    const inFlight = runInSession(c, k, 'echo ran >> ~/workspace/restart.txt; sleep 30', { timeoutS: 60, waitS: 20 }).catch((err: Error) => err);
    while ((await sh(c, 'cat ~/workspace/restart.txt 2>/dev/null | wc -l')) !== '1') await sleep(100);
    await docker().getContainer(c).restart({ t: 0 });
    // The stream broke; its fallback raced the restart, so it either failed or found the command lost.
    const first = await inFlight;
    if (!(first instanceof Error)) expect(first).toMatchObject({ state: 'done', lost: true });
    expect(before.closed).toBeDefined();
    const again = await runInSession(c, k, 'echo must not run', { timeoutS: 60, waitS: 20 });
    expect(again).toMatchObject({ state: 'done', started: false, lost: true });
    expect((await run(c, 'cat restart.txt')).output).toBe('ran\n');
    const after = await openSessionStream(c);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(after!.hello!.boot).not.toBe(before.hello!.boot);
  });
});

describe('session streams of several containers', () => {
  it('run concurrent commands on different containers, each in its own session', async () => {
    const containers = await Promise.all([newContainer(), newContainer(), newContainer()]);
    await Promise.all(containers.map((c, i) => run(c, `export WHO=c${i}; cd /tmp`)));
    const results = await Promise.all(
      containers.flatMap((c) => Array.from({ length: 5 }, (_, j) => run(c, `sleep 0.$((RANDOM % 5)); echo $WHO-${j} >> ~/who.txt; echo $WHO-${j}; pwd`))),
    );
    expect(results.map((r) => r.output)).toEqual(containers.flatMap((_, i) => Array.from({ length: 5 }, (__, j) => `c${i}-${j}\n/tmp\n`)));
    for (const [i, c] of containers.entries()) {
      expect((await sh(c, 'sort ~/who.txt')).split('\n')).toEqual(Array.from({ length: 5 }, (_, j) => `c${i}-${j}`));
    }
    const streams = await Promise.all(containers.map((c) => openSessionStream(c)));
    expect(new Set(streams.map((s) => s!.containerId)).size).toBe(3);
  });
});
