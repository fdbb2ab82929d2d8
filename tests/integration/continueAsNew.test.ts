import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../lib/run/types.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName, type ObservationRecord } from '../../lib/run/records.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

const STEPS = Number(process.env.MLGYM_LONG_RUN_STEPS ?? 200);
const EVERY = 50;

describe('a long run continues as new with bounded history', () => {
  const t = useTestTemporal();

  it(`runs ${STEPS} replayed steps across executions of at most ${EVERY} steps each and keeps its workspace`, async () => {
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-long-')), 'long.yaml');
    const actions = Array.from({ length: STEPS - 1 }, (_, i) => `- "echo ${i} >> progress.txt"`);
    writeFileSync(replay, [...actions, '- "wc -l < progress.txt"'].join('\n') + '\n');
    const input = runInput('quickDilemma', `replay:${replay}`, { maxSteps: STEPS + 5, continueEvery: EVERY });
    const worker = await t.worker('long');
    const handle = await startRun(t.client, 'long', input);
    const result = (await worker.runUntil(handle.result())) as RunResult;

    expect(result.status).toBe('completed');
    expect(result.steps).toBe(STEPS + 1); // the replayed steps, then the agent's submit
    // The workspace carried over every continue-as-new: all the appended lines are there.
    const last = await new ArtifactStore().readJson<ObservationRecord>(input.runId, recordName.observation(STEPS - 1));
    expect(last!.observation.trim()).toBe(String(STEPS - 1));
    const executions = [];
    for await (const e of t.client.workflow.list({ query: `WorkflowId = '${input.runId}'` })) executions.push(e);
    expect(executions.length).toBe(Math.ceil((STEPS + 1) / EVERY));
    // Each execution's history is bounded by the steps it ran, not by the run's length.
    for (const e of executions) {
      const history = await t.client.workflow.getHandle(input.runId, e.runId).fetchHistory();
      expect(history.events!.length).toBeLessThan(EVERY * 16);
    }
  });
});
