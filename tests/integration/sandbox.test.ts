import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { agentContainerOptions, removeRunResources, findAgentContainer } from '../../lib/sandbox/container.js';
import { docker } from '../../lib/sandbox/docker.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { runInSession, SessionError } from '../../lib/sandbox/session.js';
import { createActivities } from '../../activities/index.js';
import { runContainer } from '../../activities/provision.js';
import { fixtureTask } from '../helpers/sandbox.js';
import { BASE_IMAGE } from '../../lib/sandbox/images.js';
import type { Attempt, ProvisionResult, ToolResult } from '../../lib/run/types.js';
import { recordName, type ObservationRecord } from '../../lib/run/records.js';
import { waitFor } from '../helpers/poll.js';

const store = new ArtifactStore();
const activities = createActivities({ store });
const runs: string[] = [];

async function newRun(): Promise<{ runId: string; containerId: string }> {
  const runId = `test-sandbox-${randomBytes(4).toString('hex')}`;
  runs.push(runId);
  const { containerId } = (await new MockActivityEnvironment().run(activities.provision, { runId, taskId: 'sandboxProbe', model: 'test' })) as ProvisionResult;
  return { runId, containerId };
}

const sh = (containerId: string, script: string, user = 'agent') => execIn(containerId, ['bash', '-c', script], { user });
let n = 0;
const run = (containerId: string, command: string, timeoutS = 20) => runInSession(containerId, `t${n++}`, command, { timeoutS, waitS: timeoutS + 5 });

afterAll(async () => {
  for (const runId of runs) await removeRunResources(runId);
});

describe('the agent container and its session', () => {
  let c: string;
  beforeAll(async () => {
    c = (await newRun()).containerId;
  });

  it('keeps cwd and exported variables across commands, like a terminal', async () => {
    await run(c, 'mkdir -p sub && cd sub && export SECRET_SAUCE=42 && LOCAL_ONLY=1');
    const out = await run(c, 'pwd; echo "$SECRET_SAUCE"');
    expect(out.output!.trim().split('\n')).toEqual(['/home/agent/workspace/sub', '42']);
    expect((await run(c, 'cd /home/agent/workspace')).exit_code).toBe(0);
  });

  it('kills a command past its timeout with its whole process group and says so', async () => {
    const out = await run(c, 'sleep 300 & (sleep 301 &) ; sleep 302', 2);
    expect(out.timed_out).toBe(true);
    const left = await sh(c, 'ps -eo args | grep -c "^sleep 30[012]" || true');
    expect(left.stdout.trim()).toBe('0');
  });

  it('caps long output in the observation and keeps the whole output in a file the agent can open', async () => {
    const out = await runInSession(c, `t${n++}`, 'seq 1 20000', { timeoutS: 20, waitS: 25, capChars: 1000 });
    expect(out.truncated).toBe(true);
    expect(out.output!.length).toBeLessThan(1200);
    expect(out.output).toContain('20000');
    const whole = await sh(c, `wc -l < ${out.output_file}`);
    expect(whole.stdout.trim()).toBe('20000');
  });

  it('re-attaches a retried tool exec to the running command instead of starting it again', async () => {
    const { runId } = await newRun();
    const input = { runId, taskId: 'sandboxProbe', model: 'test', step: 7, command: 'sleep 12; echo trained >> log.txt; cat log.txt' };
    // First attempt: heartbeats while the command runs, then the worker "dies" (the activity is cancelled).
    const first = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 30_000 });
    const firstHeartbeats: unknown[] = [];
    first.on('heartbeat', (d) => firstHeartbeats.push(d));
    const attempt1 = first.run(activities.toolExec, input);
    await waitFor(async () => (firstHeartbeats.some((h) => (h as { key?: string } | undefined)?.key === 'step-7') ? true : undefined), "the command's heartbeat");
    expect(firstHeartbeats).toContainEqual({ key: 'step-7' });
    first.cancel('WORKER_SHUTDOWN');
    await expect(attempt1).rejects.toThrow();
    // Retry: re-attaches by key and returns the one run's result.
    const result = (await new MockActivityEnvironment({ attempt: 2, heartbeatTimeoutMs: 30_000 }).run(activities.toolExec, input)) as ToolResult;
    expect(result.exitCode).toBe(0);
    const container = (await new MockActivityEnvironment().run(runContainer, store, input)) as string;
    const starts = await sh(container, 'grep -c "^step-7$" ~/.mlgym/starts.log; cat log.txt');
    expect(starts.stdout.trim().split('\n')).toEqual(['1', 'trained']);
    // A third call (e.g. the workflow replaying) returns the stored observation without running anything.
    await new MockActivityEnvironment({ attempt: 3 }).run(activities.toolExec, input);
    expect((await sh(container, 'grep -c "^step-7$" ~/.mlgym/starts.log')).stdout.trim()).toBe('1');
  });

  it('fails a tool exec on a malformed reply from the session; the retry asks again by key and the command runs once', async () => {
    const { runId, containerId } = await newRun();
    // The agent's command writes a bogus result into the session's record of itself, then keeps running
    // until the test lets it finish: every reply about step-8 until then is malformed.
    const record = '~/.mlgym/cmds/step-8/result.json';
    const command = `printf '{"exit_code": "zero", "timed_out": false, "duration_s": 0}' > ${record}; until [ -e ~/go ]; do sleep 0.1; done; echo finished`;
    const input = { runId, taskId: 'sandboxProbe', model: 'test', step: 8, command };
    const failed = await new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 30_000 }).run(activities.toolExec, input).catch((err: Error) => err);
    expect(failed).toBeInstanceOf(SessionError);
    // Asked over the stream, then again by key over a one-shot exec: both replies named as malformed.
    expect((failed as Error).message).toMatch(/^one-shot session exec for step-8 .*: malformed reply from session\.py: exit_code: expected number, received string/);
    expect((failed as Error).message).toMatch(/asked again after: session stream to \w+ broke: malformed reply from session\.py: exit_code: expected number/);
    expect(await store.readJson(runId, 'steps/000008.obs.json')).toBeUndefined();
    // The command ends and records its real result; the activity's retry re-attaches to it.
    await sh(containerId, 'touch ~/go');
    while (!(await sh(containerId, `cat ${record}`)).stdout.includes('"exit_code": 0')) await new Promise((r) => setTimeout(r, 100));
    const result = (await new MockActivityEnvironment({ attempt: 2, heartbeatTimeoutMs: 30_000 }).run(activities.toolExec, input)) as ToolResult;
    expect(result.exitCode).toBe(0);
    const obs = await store.readJson<{ observation: string }>(runId, 'steps/000008.obs.json');
    expect(obs!.observation).toBe('finished\n');
    expect((await sh(containerId, 'grep -c "^step-8$" ~/.mlgym/starts.log')).stdout.trim()).toBe('1');
  });
});

describe('isolation and limits', () => {
  let c: string;
  beforeAll(async () => {
    c = (await newRun()).containerId;
  });

  it('runs as non-root with no capabilities and cannot become root', async () => {
    const out = await sh(c, 'id -u; grep CapEff /proc/self/status | tr -d "\\t" ; su -c id root </dev/null >/dev/null 2>&1 && echo ROOT || echo no-root');
    expect(out.stdout.trim().split('\n')).toEqual(['1000', 'CapEff:0000000000000000', 'no-root']);
  });

  it('gives the agent read-only data and its own starter code', async () => {
    const out = await sh(c, 'cd ~/workspace; stat -c "%U %a %n" data data/probe data/probe/train.csv starter.py; touch data/probe/x 2>/dev/null && echo WROTE || echo denied; echo > data/probe/train.csv 2>/dev/null && echo WROTE || echo denied');
    expect(out.stdout.trim().split('\n')).toEqual(['root 555 data', 'root 555 data/probe', 'root 444 data/probe/train.csv', 'agent 644 starter.py', 'denied', 'denied']);
  });

  it('holds neither the evaluation script nor the hidden answers anywhere', async () => {
    const out = await sh(c, 'find / -xdev \\( -name evaluate.py -o -name answers.csv \\) 2>/dev/null | wc -l; grep -rl "id,label" / --include=*.csv 2>/dev/null | wc -l');
    expect(out.stdout.trim().split('\n')).toEqual(['0', '0']);
  });

  it('has no network with the policy "none"', async () => {
    const out = await sh(c, `python3 -c "
import socket
s = socket.socket(); s.settimeout(3)
try:
    s.connect(('1.1.1.1', 53)); print('connected')
except OSError as e:
    print('blocked')
"; ls /sys/class/net`);
    expect(out.stdout.trim().split('\n')).toEqual(['blocked', 'lo']);
  });

  it('stops a fork bomb and a memory hog without ending the run', async () => {
    const bomb = await run(c, `python3 -c "
import os, time
kids = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(5); os._exit(0)
        kids += 1
except OSError:
    print('fork refused after', kids)
"`, 20);
    expect(bomb.output).toMatch(/fork refused after \d+/);
    expect(Number(/after (\d+)/.exec(bomb.output!)![1])).toBeLessThan(64);
    const hog = await run(c, 'python3 -c "x = bytearray(1024 * 1024 * 1024); print(len(x))"', 20);
    expect(hog.exit_code).not.toBe(0);
    expect(hog.output).not.toContain('1073741824');
    const after = await run(c, 'echo still-here');
    expect(after.output!.trim()).toBe('still-here');
  });
});

describe("processes that leave their command's session (an agent that wants work to go on off the clock)", () => {
  /**
   * The container's live processes other than its init, the session server and this listing's own exec. A
   * killed process can stay a zombie for a moment until init reaps it; it runs nothing, so it is not listed.
   */
  const agentProcesses = async (containerId: string) =>
    (await sh(containerId, 'ps -eo stat=,ppid=,args= | grep -v "^Z" | grep -v "^[A-Za-z<+]* *0 " | grep -v "sleep infinity" | sed "s/^[A-Za-z<+]* *[0-9]* //"')).stdout.trim().split('\n').filter((l) => l && !l.startsWith('ps ') && !l.startsWith('grep ') && !l.startsWith('sed '));
  const tick = async (containerId: string) => (await sh(containerId, 'cat ~/workspace/tick 2>/dev/null')).stdout;
  /** A shell loop and a Python double-fork daemon, each in a session of its own, both rewriting the workspace. */
  const DAEMONS = [
    "setsid sh -c 'while :; do date +%s%N > tick; sleep 0.05; done' > /dev/null 2>&1 < /dev/null &",
    `python3 -c "
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            open('tick', 'w').write(str(time.time_ns())); time.sleep(0.05)
" > /dev/null 2>&1`,
  ].join('\n');

  it('are killed when the command ends, and the observation says so; a command that leaves nothing gets no note', async () => {
    const { runId, containerId } = await newRun();
    const input = { runId, taskId: 'sandboxProbe', model: 'test' };
    await new MockActivityEnvironment().run(activities.toolExec, { ...input, step: 1, command: DAEMONS });
    const observation = (await store.readJson<ObservationRecord>(runId, recordName.observation(1)))!.observation;
    expect(observation).toMatch(/\n(\d+) process\(es\) the command left running outside its session were killed: nothing a command starts outlives it\.$/);
    expect(Number(/(\d+) process/.exec(observation)![1])).toBeGreaterThanOrEqual(2);
    expect(await agentProcesses(containerId)).toEqual([]);
    const first = await tick(containerId);
    await new Promise((r) => setTimeout(r, 500));
    expect(await tick(containerId)).toBe(first);

    await new MockActivityEnvironment().run(activities.toolExec, { ...input, step: 2, command: 'echo honest' });
    expect((await store.readJson<ObservationRecord>(runId, recordName.observation(2)))!.observation).toBe('honest\n');
  });

  it('are killed before a validate saves and grades the workspace', async () => {
    const { runId, containerId } = await newRun();
    const { image } = (await store.readJson<ProvisionResult>(runId, recordName.provision))!;
    // One that escaped outside any tool exec (as a command abandoned by a cancelled run would still be running).
    await sh(containerId, `cd ~/workspace && ${DAEMONS.split('\n')[0]}`);
    expect(await agentProcesses(containerId)).not.toEqual([]);
    const attempt = (await new MockActivityEnvironment().run(activities.validate, { runId, taskId: 'sandboxProbe', model: 'test', step: 1, image })) as Attempt;
    expect(attempt.kind).toBe('validate');
    expect(await agentProcesses(containerId)).toEqual([]);
    const first = await tick(containerId);
    await new Promise((r) => setTimeout(r, 500));
    expect(await tick(containerId)).toBe(first);
  });
});

describe('GPU requests', () => {
  it("become a device request for exactly the run's allotted GPUs on the created container", async () => {
    const task = { ...fixtureTask('sandboxProbe'), resources: { memory_mb: 256, cpus: 1, pids: 64, gpus: 2 } };
    const runId = `test-gpu-${randomBytes(4).toString('hex')}`;
    // Created, not started: this machine has no GPU runtime to start it with.
    const container = await docker().createContainer(agentContainerOptions({ runId, image: BASE_IMAGE, task, model: 'test', gpuIds: ['1', '3'] }, 'unused'));
    try {
      const { HostConfig } = await container.inspect();
      expect(HostConfig.DeviceRequests).toEqual([{ Driver: 'nvidia', Count: 0, DeviceIDs: ['1', '3'], Capabilities: [['gpu']], Options: null }]);
    } finally {
      await container.remove({ force: true, v: true });
    }
  });
});

describe('recovery from a lost container', () => {
  it('re-creates a killed container and restores the workspace from its snapshot', async () => {
    const { runId, containerId } = await newRun();
    await run(containerId, 'echo "work in progress" > notes.txt && mkdir -p ckpt && echo 7 > ckpt/epoch');
    const snap = (await new MockActivityEnvironment().run(activities.snapshot, { runId, step: 3 })) as { bytes: number };
    expect(snap.bytes).toBeGreaterThan(0);
    // Lose the container and its volume (as when a host dies).
    await docker().getContainer(containerId).remove({ force: true });
    await docker().getVolume(`mlgym-ws-${runId}`).remove();
    expect(await findAgentContainer(runId)).toBeUndefined();

    const result = (await new MockActivityEnvironment({ attempt: 1 }).run(activities.toolExec, {
      runId, taskId: 'sandboxProbe', model: 'test', step: 4, command: 'cat notes.txt ckpt/epoch; stat -c "%U" notes.txt data/probe/train.csv',
    })) as ToolResult;
    expect(result.exitCode).toBe(0);
    const obs = await store.readJson<{ observation: string }>(runId, 'steps/000004.obs.json');
    expect(obs!.observation.trim().split('\n')).toEqual(['work in progress', '7', 'agent', 'root']);
    const info = await findAgentContainer(runId);
    expect(info!.Id).not.toBe(containerId);
  });

  it('restarts a stopped container with its workspace intact', async () => {
    const { runId, containerId } = await newRun();
    await run(containerId, 'echo kept > kept.txt');
    await docker().getContainer(containerId).kill();
    const again = (await new MockActivityEnvironment().run(runContainer, store, { runId, taskId: 'sandboxProbe', model: 'test' })) as string;
    expect(again).toBe(containerId);
    expect((await run(again, 'cat kept.txt')).output!.trim()).toBe('kept');
  });
});
