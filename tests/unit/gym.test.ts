import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { resolveAgentSpec } from '../../lib/agent/models.js';
import { stepUpdateId } from '../../lib/gym/env.js';
import { externalRunsQuery } from '../../lib/gym/runs.js';
import { finalObservation, gymFinal, stepObservation } from '../../lib/gym/observation.js';
import { improvementOver, stepReward } from '../../lib/gym/reward.js';
import type { GymMetric, GymObservation } from '../../lib/gym/types.js';
import { repoRoot, tasksDir } from '../../lib/home.js';
import type { RunResult } from '../../lib/run/types.js';

const metric: GymMetric = { name: 'Score', direction: 'max', baseline: 2.4 };

function validated(score: number): GymObservation {
  return stepObservation({
    runId: 'run-x',
    step: 2,
    action: 'validate',
    output: 'Evaluation Score (validation split): {"Score": 2.6}',
    hints: ['look at target.py'],
    maxSteps: 10,
    openFile: 'n/a',
    workingDir: '/home/agent/workspace',
    exitCode: null,
    attempt: { step: 2, kind: 'validate', shownMetrics: { Score: score }, metrics: { Score: 9.99 } },
    metric,
  });
}

const result: RunResult = {
  runId: 'run-x',
  task: 'prisonersDilemma',
  model: 'external',
  status: 'completed',
  exitStatus: 'submitted',
  steps: 4,
  costUsd: 0,
  attempts: [],
  bestAttempt: null,
  submission: { step: 3, kind: 'submit', metrics: { Score: 2.5 }, shownMetrics: { Score: 2.5 } },
};

describe('the Gym protocol', () => {
  it("names the agent spec `external`; the CLI refuses a bad idle limit before connecting", async () => {
    expect(resolveAgentSpec('external')).toEqual({ kind: 'external' });
    expect(await runCli(['run', 'prisonersDilemma', '--model', 'external', '--idle-pause', '0', '--no-worker'])).toBe(2);
    expect(await runCli(['run', 'prisonersDilemma', '--model', 'external', '--idle-end', 'soon', '--no-worker'])).toBe(2);
  });

  it('builds the observation after a step with the footer and notes the built-in agent sees', () => {
    const obs = validated(2.6);
    expect(obs.step).toBe(3);
    expect(obs.observation).toBe(
      'Evaluation Score (validation split): {"Score": 2.6}\n\nNOTE FROM THE OPERATOR: look at target.py\n\n(Steps used: 3 of 10, remaining: 7)\n(Open file: n/a)\n(Working directory: /home/agent/workspace)',
    );
    expect(obs.state).toEqual({ stepsUsed: 3, maxSteps: 10, remaining: 7, openFile: 'n/a', workingDir: '/home/agent/workspace' });
    // A validate shows the validation split only, never the private test score.
    expect(obs.validation).toEqual({ kind: 'validate', metrics: { Score: 2.6 }, error: null });
    expect(JSON.stringify(obs)).not.toContain('9.99');
    expect(obs).toMatchObject({ done: false, terminated: false, truncated: false, final: null });
  });

  it('ends the episode on the last step, or with a note when it ended while waiting', () => {
    const submitted = finalObservation(validated(2.6), result, 'submit', validated(2.6));
    expect(submitted).toMatchObject({ done: true, terminated: true, truncated: false, action: 'validate', final: { exitStatus: 'submitted', score: 2.5, metrics: { Score: 2.5 }, steps: 4 } });
    const idle = finalObservation(undefined, { ...result, exitStatus: 'autosubmission (exit_cancel)' }, 'exit_cancel', validated(2.6));
    expect(idle).toMatchObject({ done: true, terminated: false, truncated: true, action: null, validation: null, exitCode: null });
    expect(idle.observation).toMatch(/^The episode ended without another step \(autosubmission \(exit_cancel\)\): the workspace was scored: Score 2.5\.\n\n\(Steps used: 3 of 10/);
    expect(gymFinal({ ...result, status: 'failed', submission: null }, 'Score')).toMatchObject({ score: null, metrics: null });
  });

  it('rewards 0 per step by default, or the improvement of a score over the baseline', () => {
    const obs = validated(2.6);
    expect(stepReward(obs)).toBe(0);
    expect(stepReward(obs, 'improvement')).toBeCloseTo(0.2, 12);
    expect(stepReward({ ...obs, validation: null }, 'improvement')).toBe(0);
    expect(stepReward(finalObservation(obs, result, 'submit', obs), 'improvement')).toBeCloseTo(0.1, 12);
    expect(stepReward(obs, (o) => o.step)).toBe(3);
    expect(improvementOver({ name: 'Time', direction: 'min', baseline: 16 }, 12)).toBe(4);
    expect(improvementOver({ name: 'Time', direction: 'min', baseline: null }, 12)).toBe(0);
  });

  it('makes the same step update ids in TypeScript and Python', () => {
    expect(stepUpdateId(3, 'ls')).toBe('step-3-c7b68ac37f364473');
    expect(stepUpdateId(3, 'ls -la')).not.toBe(stepUpdateId(3, 'ls'));
    const python = readFileSync(join(repoRoot, 'clients/python/tests/test_unit.py'), 'utf8');
    expect(python).toContain('step_update_id(3, "ls") == "step-3-c7b68ac37f364473"');
  });

  it('registers a Python environment id for every task of the repository', () => {
    const init = readFileSync(join(repoRoot, 'clients/python/src/durable_mlgym/__init__.py'), 'utf8');
    const block = init.slice(init.indexOf('TASK_IDS = ('), init.indexOf(')', init.indexOf('TASK_IDS = (')));
    const listed = [...block.matchAll(/"([A-Za-z0-9_.-]+)"/g)].map((m) => m[1]);
    const tasks = readdirSync(tasksDir).filter((d) => existsSync(join(tasksDir, d, 'task.yaml')));
    expect(listed).toEqual(tasks.sort());
  });
});

describe('the query of external runs', () => {
  it('filters by benchmark and task, running runs by default, and refuses what is not an id', () => {
    expect(externalRunsQuery({ benchId: 'bench-nightly-ab12cd' })).toBe("MlgymModel = 'external' AND MlgymBenchId = 'bench-nightly-ab12cd' AND ExecutionStatus = 'Running'");
    expect(externalRunsQuery({ task: 'blotto', running: false })).toBe("MlgymModel = 'external' AND MlgymTask = 'blotto'");
    expect(() => externalRunsQuery({ benchId: "x' OR MlgymModel != 'external" })).toThrow(/MlgymBenchId: expected an id/);
  });
});
