import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { readTrajectory } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { findAgentContainer, removeRunResources } from '../../lib/sandbox/container.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { gymQuery } from '../../workflows/messages.js';
import { waitFor } from '../helpers/poll.js';
import { playPython, shellStarts } from '../helpers/gymPython.js';
import { killHard, startWorkerProcess } from '../helpers/workerProcess.js';

const QUEUE = 'gym-worker-kill';
const WS = '/home/agent/workspace';
/** The step the worker dies in: it marks its start, then takes a while, then prints. */
const SLOW = `echo began >> ${WS}/began.txt; sleep 6; echo slow | tee -a ${WS}/runs.txt`;
const ACTIONS = [`echo start >> ${WS}/runs.txt`, SLOW, `cat ${WS}/runs.txt ${WS}/began.txt`, 'submit'];

/** A file of the run's workspace, read in its container (undefined while it does not exist). */
async function workspaceFile(runId: string, name: string): Promise<string | undefined> {
  const container = await findAgentContainer(runId);
  if (!container) return undefined;
  const out = await execIn(container.Id, ['cat', `${WS}/${name}`]);
  return out.exitCode === 0 ? out.stdout : undefined;
}

describe('the Gym environment when the worker dies during a step', () => {
  let client: Client;
  const workers: ChildProcess[] = [];
  let runId = '';

  beforeAll(async () => {
    client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }) });
  });
  afterAll(async () => {
    for (const w of workers) await killHard(w);
    if (runId) await removeRunResources(runId);
    await client?.connection.close();
  });

  it('the Python client still gets the observation of the step the SIGKILLed worker was running, and the action ran once', async () => {
    const env = { MLGYM_TASK_QUEUE: QUEUE };
    workers.push(await startWorkerProcess(env));
    const runIdFile = join(mkdtempSync(join(tmpdir(), 'mlgym-gym-wkill-')), 'run-id');
    const { played } = playPython({ task: 'quickDilemma', seed: 21, options: { max_steps: 6, keep: true, heartbeat_timeout_s: 2 }, actions: ACTIONS, run_id_file: runIdFile }, QUEUE);
    played.catch(() => undefined); // awaited below; a failure before then must not go unhandled

    runId = await waitFor(async () => (existsSync(runIdFile) ? readFileSync(runIdFile, 'utf8').trim() || undefined : undefined), 'the run id');
    await waitFor(async () => ((await client.workflow.getHandle(runId).query(gymQuery)).runningStep === 1 ? true : undefined), 'step 1 to be taken');
    // The command of step 1 is running in the container: kill the worker that runs its activity, like a crashing machine.
    await waitFor(() => workspaceFile(runId, 'began.txt'), 'step 1 to start in the container');
    expect(await workspaceFile(runId, 'runs.txt')).toBe('start\n');
    await killHard(workers[0]!);
    expect(workers[0]!.signalCode).toBe('SIGKILL');
    workers.push(await startWorkerProcess(env));

    const { lines } = await played;
    const [, , afterSlow, cat, submitted] = lines;
    // The observation of the step the worker died in, with its output, as if nothing had happened.
    expect(afterSlow).toMatchObject({ kind: 'step', terminated: false, truncated: false });
    expect(afterSlow!.info).toMatchObject({ step: 2, action: SLOW });
    expect(afterSlow!.observation).toMatch(/^slow\n+\(Steps used: 2 of 6, remaining: 4\)/);
    // It ran once: the workspace, the session's record of started commands and the run's trajectory say so.
    expect(cat!.observation.split('\n\n')[0]).toBe('start\nslow\nbegan');
    expect(await shellStarts(runId)).toEqual(['step-0', 'step-1', 'step-2']);
    const steps = await readTrajectory(new ArtifactStore(), runId);
    expect(steps.map((s) => s.action)).toEqual(ACTIONS);
    expect(submitted!.info.final?.exit_status).toBe('submitted');
    const result = (await client.workflow.getHandle(runId).result()) as RunResult;
    expect(result.submission?.metrics?.Score).toBe(submitted!.info.final_score);

    // The kill did interrupt step 1: its activity was retried by the new worker.
    const { events } = await client.workflow.getHandle(runId).fetchHistory();
    const toolExecs = new Set(events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'toolExec').map((e) => String(e.eventId)));
    const retried = events!.filter((e) => e.activityTaskStartedEventAttributes && toolExecs.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)) && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1);
    expect(retried).toHaveLength(1);
  });
});
