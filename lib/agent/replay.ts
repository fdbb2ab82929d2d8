import { ConfigError, readConfigFile } from '../config/load.js';
import type { AgentAction, ExitReason, TurnResult } from '../run/types.js';
import { actionFromCommand } from './parse.js';

export interface ReplayStep {
  action: string;
  thought: string;
}

/** MLGym's pseudo-actions that a recorded trajectory may end with. */
const RECORDED_EXITS: ExitReason[] = ['exit_format', 'exit_cost', 'exit_context', 'exit_api', 'exit_error', 'exit_forfeit'];

/**
 * A replay file: a YAML or JSON list of actions (command strings, or `{action, thought}` objects),
 * or an MLGym `.traj` (JSON with `trajectory: [{action, thought, …}]`).
 */
export function loadReplay(file: string): ReplayStep[] {
  const data = readConfigFile(file, { expected: 'a YAML or JSON replay file' });
  const list = Array.isArray(data) ? data : (data as { trajectory?: unknown } | null)?.trajectory;
  if (!Array.isArray(list)) {
    throw new ConfigError(file, [{ path: '', message: 'expected a list of actions, or an MLGym trajectory with a "trajectory" list' }]);
  }
  return list.map((item, i) => replayStep(item, file, i));
}

function replayStep(item: unknown, file: string, i: number): ReplayStep {
  if (typeof item === 'string') return { action: item, thought: '' };
  const { action, thought } = (item ?? {}) as { action?: unknown; thought?: unknown };
  if (typeof action === 'string') return { action, thought: typeof thought === 'string' ? thought : '' };
  throw new ConfigError(file, [{ path: `[${i}]`, message: 'expected a command string or an object with a string "action"' }]);
}

function replayAction(text: string): AgentAction {
  const exit = RECORDED_EXITS.find((reason) => reason === text.trim());
  return exit ? { kind: 'exit', reason: exit } : actionFromCommand(text);
}

/** The `replay:<file>` agent: the recorded action at index `step`; past the end, submit. */
export function replayTurn(steps: ReplayStep[], step: number): TurnResult {
  const recorded = steps[step];
  if (!recorded) return { action: { kind: 'submit' }, thought: 'The recorded actions are used up: submit.', costUsd: 0 };
  return { action: replayAction(recorded.action), thought: recorded.thought, costUsd: 0 };
}
