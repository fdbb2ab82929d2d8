import { refuseInteractive } from './guard.js';
import { rewriteBodies } from './rewrite.js';

export type PreparedCommand = { command: string } | { refusal: string };

/**
 * Make an agent's shell action ready for the container session: edit/insert bodies become heredocs,
 * then interactive programs are refused. A refusal is the observation; nothing runs.
 */
export function prepareCommand(action: string): PreparedCommand {
  const rewritten = rewriteBodies(action);
  if ('error' in rewritten) return { refusal: rewritten.error };
  const refusal = refuseInteractive(rewritten.command);
  return refusal ? { refusal } : { command: rewritten.command };
}
