import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { mlgymHome } from '../lib/home.js';
import type { RunInput, RunResult } from '../lib/run/types.js';
import { runInput, startRun } from '../tests/helpers/runs.js';
import type { BenchEnv } from './env.js';

export const TASK = 'prisonersDilemma';

/** Trivial commands, alternating `true` and `echo x`. */
export function trivialCommands(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i % 2 ? 'echo x' : 'true'));
}

/**
 * Start a replay run of `commands`, then a forfeit: it ends without grading, so the run is its steps,
 * provisioning, scoring and teardown.
 */
export async function startReplayRun(env: BenchEnv, name: string, commands: string[], overrides: Partial<RunInput> = {}): Promise<WorkflowHandle> {
  const dir = join(mlgymHome(), 'replays');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, [...commands, 'exit_forfeit'].map((c) => `- ${JSON.stringify(c)}`).join('\n') + '\n');
  const input = runInput(TASK, `replay:${file}`, { maxSteps: commands.length + 1, ...overrides });
  input.runId = env.runId(name);
  return startRun(env.client, env.queue, input);
}

export function resultOf(handle: WorkflowHandle): Promise<RunResult> {
  return handle.result() as Promise<RunResult>;
}
