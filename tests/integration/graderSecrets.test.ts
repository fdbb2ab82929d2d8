import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { recordName, type ObservationRecord } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

describe("the test split's secrets stay out of the agent's reach", () => {
  const t = useTestTemporal();

  it('an agent whose code reports what the grader holds during validate learns nothing of the test split', async () => {
    const { split_secrets: secrets } = loadTask(taskFile('prisonersDilemma'), datasetsDir);
    const testSeed = String(secrets.test.seed);
    // The agent's strategy, run by the grader, reports its environment and every grader file holding the test seed.
    const spy = [
      'import os, subprocess',
      `hits = subprocess.run(["grep", "-rl", "${testSeed}", "/grader"], capture_output=True, text=True).stdout.split()`,
      'raise RuntimeError("env=" + os.environ.get("MLGYM_SECRETS", "") + " files=" + ",".join(hits))',
    ].join('\n');
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-spy-')), 'spy.yaml');
    writeFileSync(replay, JSON.stringify([`cat > strategy.py <<'PY'\n${spy}\nPY`, 'validate', 'exit_forfeit']));
    const input = runInput('prisonersDilemma', `replay:${replay}`);
    const worker = await t.worker('secrets');
    const result = (await worker.runUntil(startRun(t.client, 'secrets', input).then((h) => h.result()))) as RunResult;

    const shown = (await new ArtifactStore().readJson<ObservationRecord>(input.runId, recordName.observation(1)))!.observation;
    expect(shown).toContain(`env=${JSON.stringify(secrets.validation)} files=`);
    expect(shown).not.toContain(testSeed);
    // The test split did run (and failed the same way); its message is kept privately.
    expect(result.attempts[0]!.error).not.toContain(testSeed);
    expect(result.exitStatus).toBe('exit_forfeit');
  });
});
