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

  it("an agent whose code reports what the grader holds during validate learns nothing of either split's secrets", async () => {
    const { split_secrets: secrets } = loadTask(taskFile('prisonersDilemma'), datasetsDir);
    const seeds = [String(secrets.validation.seed), String(secrets.test.seed)];
    // The agent's strategy, run by the grader, reports its environment, the evaluator's environment and
    // every file it can read in the grader's folders that holds either seed.
    const spy = [
      'import os, re',
      'hits = []',
      'for top in ("/grader", "/srv", "/opt/mlgym", "/tmp", "/home", "/proc/%d" % os.getppid()):',
      '    for folder, _, names in os.walk(top):',
      '        for name in names:',
      '            try:',
      // The seeds as sums, so that the spy's own source (which the grader holds too) is no hit.
      // A seed is a hit only as a number of its own, not as digits inside a hex id (container ids in /proc).
      `                data = open(os.path.join(folder, name), "rb").read(1 << 20)`,
      `                if any(re.search(rb"(?<![0-9A-Za-z])%d(?![0-9A-Za-z])" % s, data) for s in (${Number(seeds[0]) - 1} + 1, ${Number(seeds[1]) - 1} + 1)):`,
      '                    hits.append(os.path.join(folder, name))',
      '            except OSError:',
      '                pass',
      'raise RuntimeError("env=" + os.environ.get("MLGYM_SECRETS", "") + " files=" + ",".join(hits))',
    ].join('\n');
    const replay = join(mkdtempSync(join(tmpdir(), 'mlgym-spy-')), 'spy.yaml');
    writeFileSync(replay, JSON.stringify([`cat > strategy.py <<'PY'\n${spy}\nPY`, 'validate', 'exit_forfeit']));
    const input = runInput('prisonersDilemma', `replay:${replay}`);
    const worker = await t.worker('secrets');
    const result = (await worker.runUntil(startRun(t.client, 'secrets', input).then((h) => h.result()))) as RunResult;

    const shown = (await new ArtifactStore().readJson<ObservationRecord>(input.runId, recordName.observation(1)))!.observation;
    expect(shown).toBe('Validation failed: importing strategy.py raised RuntimeError: env= files=');
    for (const seed of seeds) expect(shown).not.toContain(seed);
    // The test split did run (and failed the same way); its message, kept privately, holds nothing either.
    expect(result.attempts[0]!.error).toBe('importing strategy.py raised RuntimeError: env= files=');
    expect(result.exitStatus).toBe('exit_forfeit');
  });
});
