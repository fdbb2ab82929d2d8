import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { readTrajectory } from '../../lib/run/records.js';
import type { RunResult } from '../../lib/run/types.js';
import { docker, labels } from '../../lib/sandbox/docker.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { useTestTemporal } from '../helpers/temporal.js';
import { runInput, startRun } from '../helpers/runs.js';

describe('prisonersDilemma with the baseline agent, through the real server, worker and Docker', () => {
  const t = useTestTemporal();

  it('submits the recorded baseline score and leaves no container behind', async () => {
    const task = loadTask(taskFile('prisonersDilemma'), datasetsDir);
    const input = runInput('prisonersDilemma', 'baseline');
    const worker = await t.worker('baseline-run');
    const handle = await startRun(t.client, 'baseline-run', input);
    const result = (await worker.runUntil(handle.result())) as RunResult;

    expect(result.status).toBe('completed');
    expect(result.exitStatus).toBe('submitted');
    const recorded = task.baseline_scores[0]!.Score!;
    const noise = task.baseline_noise.Score!;
    expect(Math.abs(result.submission!.metrics!.Score! - recorded)).toBeLessThanOrEqual(3 * noise);
    expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
    // validate shows the validation split; the test split is recorded privately
    expect(result.attempts[0]!.shownMetrics!.Score).not.toBe(result.attempts[0]!.metrics!.Score);
    // Nothing changed between them: the submit reuses the validate's grading of the test split.
    expect(result.attempts[1]).toMatchObject({ reusedFrom: result.attempts[0]!.step, metrics: result.attempts[0]!.metrics });

    const history = await handle.fetchHistory();
    const activityTypes = history.events!.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name] : []));
    expect(activityTypes).toEqual(['provision', 'agentTurn', 'toolExec', 'agentTurn', 'validate', 'agentTurn', 'submit', 'score', 'teardown']);

    const steps = await readTrajectory(new ArtifactStore(), input.runId);
    expect(steps.map((s) => s.action)).toEqual(['python3 -c "import strategy"', 'validate', 'submit']);
    expect(steps[1]!.observation).toContain('Evaluation Score (validation split)');

    const left = await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${input.runId}`] } });
    expect(left).toHaveLength(0);
  });

  it('runs the agent as non-root in a hardened container, with the evaluation script out of reach', async () => {
    // Any task's container is made the same way: the fixture quickDilemma spares two 10,000-game evaluations.
    const input = runInput('quickDilemma', 'baseline', { keep: true });
    const worker = await t.worker('baseline-keep');
    const handle = await startRun(t.client, 'baseline-keep', input);
    await worker.runUntil(handle.result());
    const [info] = await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${input.runId}`, `${labels.role}=agent`] } });
    expect(info).toBeDefined();
    const container = docker().getContainer(info!.Id);
    try {
      const inspect = await container.inspect();
      expect(inspect.Config.User).toBe('agent');
      expect(inspect.HostConfig.CapDrop).toEqual(['ALL']);
      expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(inspect.HostConfig.NetworkMode).toBe('none');
      const out = await execIn(info!.Id, ['sh', '-c', 'id -u; find / -name evaluate.py 2>/dev/null | wc -l']);
      const numbers = out.stdout.trim().split('\n');
      expect(numbers).toEqual(['1000', '0']);
    } finally {
      await container.remove({ force: true, v: true });
      await docker().getVolume(`mlgym-ws-${input.runId}`).remove().catch(() => undefined);
    }
  });
});
