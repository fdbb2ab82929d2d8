import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { repoRoot } from '../../lib/home.js';
import { devServerArgs, portAnswers, temporalCli } from '../../lib/temporal/server.js';
import { runInput, startRun } from '../helpers/runs.js';

/**
 * Priorities need the server's newer task matcher and are kept within one partition of a queue: a dev server of
 * this test with both (the suite's runs without them, docs/deploy.md).
 */
const PRIORITY_CONFIG = ['matching.useNewMatcher=true', 'matching.numTaskqueueWritePartitions=1', 'matching.numTaskqueueReadPartitions=1'];

describe('run priorities', () => {
  const port = 20233 + Math.floor(Math.random() * 500);
  const address = `127.0.0.1:${port}`;
  let server: ChildProcess;
  let client: Client;

  beforeAll(async () => {
    server = spawn(temporalCli(), devServerArgs({ port, uiPort: port + 1, dbFile: join(mkdtempSync(join(tmpdir(), 'mlgym-prio-')), 'temporal.db'), dynamicConfig: PRIORITY_CONFIG }), { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    while (!(await portAnswers(port))) {
      if (Date.now() > deadline) throw new Error('the priority test dev server did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    client = new Client({ connection: await Connection.connect({ address }) });
  });
  afterAll(async () => {
    await client?.connection.close();
    server?.kill('SIGKILL');
  });

  it('an interactive `mlgym run` is dispatched before a backlog of benchmark-priority runs started earlier', async () => {
    const tag = randomBytes(3).toString('hex');
    const queue = `priority-${tag}`;
    for (let seed = 0; seed < 3; seed++) {
      // As a benchmark starts its children: no priority of their own (the server's default, 3).
      await startRun(client, queue, runInput('quickDilemma', `replay:/nonexistent-${tag}.yaml`, { seed, runId: `prio-${tag}-bench-${seed}` }));
    }
    const out = execFileSync('node', [join(repoRoot, 'bin/mlgym.js'), 'run', 'quickDilemma', '--model', 'baseline', '--detach', '--json'], { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: address, MLGYM_TASK_QUEUE: queue } });
    const { runId, taskQueue } = JSON.parse(out);
    expect(taskQueue).toBe(queue);
    const info = (await client.workflow.getHandle(runId).describe()).raw.workflowExecutionInfo;
    expect(info?.priority?.priorityKey).toBe(2);

    // One poll, as a worker's: the server hands out the interactive run's first workflow task first.
    const poll = () => client.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: queue }, identity: `priority-test-${tag}` });
    const task = await client.withDeadline(Date.now() + 30_000, poll);
    expect(task.workflowExecution?.workflowId).toBe(runId);
  });
});
