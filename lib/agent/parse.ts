import type { AgentAction } from '../run/types.js';

/** A parsed reply, or why it cannot be used (sent back to the model in a re-ask). */
export type Parsed = { ok: true; action: AgentAction; thought: string } | { ok: false; error: string };

/** The one tool of the native tool-calling format. */
export const RUN_TOOL_NAME = 'run';

/** `validate`, `submit` and `exit_forfeit` are handled by the harness; anything else runs in the shell. */
export function actionFromCommand(command: string): AgentAction {
  const text = command.trim();
  if (text === 'validate' || text === 'submit') return { kind: text };
  if (text === 'exit_forfeit') return { kind: 'exit', reason: 'exit_forfeit' };
  return { kind: 'command', command: text };
}

// A fence is a line of three or more backticks, optionally followed by a language tag.
const FENCE = /^\s*(`{3,})([^`]*)$/;

interface Block {
  first: number;
  last: number;
}

/**
 * The top-level fenced blocks of a reply. Nesting rule: inside a block, a fence with a language tag
 * (```python) opens a nested block and a bare fence closes the innermost open block, if it is at
 * least as long as that block's opening fence. So an edit body may hold its own fenced code, and a
 * ```` block may hold bare ``` lines.
 */
function topLevelBlocks(lines: string[]): { blocks: Block[]; unclosed: boolean } {
  const blocks: Block[] = [];
  const open: number[] = [];
  let first = 0;
  lines.forEach((line, i) => {
    const fence = FENCE.exec(line);
    if (!fence) return;
    const length = fence[1]!.length;
    const bare = fence[2]!.trim() === '';
    if (open.length === 0) {
      open.push(length);
      first = i;
    } else if (!bare) {
      open.push(length);
    } else if (length >= open.at(-1)!) {
      open.pop();
      if (open.length === 0) blocks.push({ first, last: i });
    }
  });
  return { blocks, unclosed: open.length > 0 };
}

/**
 * MLGym's text format: a discussion (the thought) and exactly one fenced block holding the command.
 * `cutOff` says the reply stopped at the output token limit, which explains an unclosed block.
 */
export function parseTextReply(reply: string, cutOff = false): Parsed {
  if (!reply.trim()) return { ok: false, error: 'the reply was empty.' };
  const lines = reply.split('\n');
  const { blocks, unclosed } = topLevelBlocks(lines);
  if (unclosed) {
    const why = cutOff ? ' The reply was cut off at the output token limit: keep the discussion short.' : '';
    return { ok: false, error: `a code block was opened but never closed.${why}` };
  }
  if (blocks.length === 0) return { ok: false, error: 'the reply has no fenced code block, so it holds no command.' };
  if (blocks.length > 1) {
    return { ok: false, error: `the reply has ${blocks.length} fenced code blocks; it must have exactly one, holding the command. Quote other code inline with single backticks.` };
  }
  const { first, last } = blocks[0]!;
  const command = lines.slice(first + 1, last).join('\n');
  if (!command.trim()) return { ok: false, error: 'the code block is empty.' };
  const thought = [...lines.slice(0, first), ...lines.slice(last + 1)].join('\n').trim();
  return { ok: true, action: actionFromCommand(command), thought };
}

export interface ToolCall {
  id: string;
  type: string;
  function?: { name: string; arguments: string };
}

/** Native tool calls: exactly one call of `run` with `{ command: string }`; the message text is the thought. */
export function parseToolReply(content: string | null | undefined, toolCalls: ToolCall[] | undefined): Parsed {
  const calls = toolCalls ?? [];
  if (calls.length === 0) return { ok: false, error: `the reply has no tool call; call the \`${RUN_TOOL_NAME}\` tool once with your command.` };
  if (calls.length > 1) return { ok: false, error: `the reply has ${calls.length} tool calls; make exactly one call per reply.` };
  const call = calls[0]!;
  if (call.function?.name !== RUN_TOOL_NAME) {
    return { ok: false, error: `unknown tool "${call.function?.name ?? call.type}"; the only tool is \`${RUN_TOOL_NAME}\`.` };
  }
  const command = commandArgument(call.function.arguments);
  if (command === undefined) return { ok: false, error: 'the tool arguments must be a JSON object with a string field "command".' };
  if (!command.trim()) return { ok: false, error: 'the command is empty.' };
  return { ok: true, action: actionFromCommand(command), thought: (content ?? '').trim() };
}

function commandArgument(args: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(args);
    const command = parsed && typeof parsed === 'object' ? (parsed as { command?: unknown }).command : undefined;
    return typeof command === 'string' ? command : undefined;
  } catch {
    return undefined;
  }
}
