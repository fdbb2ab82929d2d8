import type { LoadedTask } from '../config/load.js';
import type { TurnResult } from '../run/types.js';

/** The command that runs a task's baseline to produce its artifact. */
export function baselineCommand(task: LoadedTask): string | undefined {
  if (task.baseline_command) return task.baseline_command;
  const script = task.baseline_paths[0];
  return script ? `python3 ${script}` : undefined;
}

/** The `baseline` agent: run the task's baseline, validate, submit. Needs no LLM. */
export function baselineTurn(task: LoadedTask, step: number): TurnResult {
  const command = baselineCommand(task);
  const plan: TurnResult[] = [
    ...(command ? [{ action: { kind: 'command', command }, thought: 'Run the baseline to produce the submission artifact.', costUsd: 0 } as const] : []),
    { action: { kind: 'validate' }, thought: 'Check the baseline artifact on the validation split.', costUsd: 0 },
    { action: { kind: 'submit' }, thought: 'Submit the baseline.', costUsd: 0 },
  ];
  return plan[Math.min(step, plan.length - 1)]!;
}
