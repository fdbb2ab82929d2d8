import { stringify as toYaml } from 'yaml';
import type { ReplayStep } from '../agent/replay.js';
import type { MlgymTraj } from './traj.js';

/** The agent's actions (with its thoughts) of an MLGym trajectory, in order: what `replay:<file>` plays back. */
export function replayFromTraj(traj: MlgymTraj): ReplayStep[] {
  return traj.trajectory.map((s) => ({ action: s.action, thought: s.thought ?? '' }));
}

/** A replay file: a YAML list of {action, thought}; multi-line actions (edit bodies) as literal blocks. */
export function replayYaml(steps: ReplayStep[], source: string): string {
  const header = `# Replay of ${source.replace(/\n/g, ' ')}: ${steps.length} action(s). Run with --model replay:<this file>.\n`;
  return header + toYaml(steps, { blockQuote: 'literal', lineWidth: 0 });
}
