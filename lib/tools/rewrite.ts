import { TOOL_COMMANDS, type ToolCommand } from './registry.js';

export type Rewritten = { command: string } | { error: string };

const BODY_COMMANDS = TOOL_COMMANDS.filter((c) => c.bodyEnd !== undefined);
const NAMES = BODY_COMMANDS.map((c) => c.name).join('|');
const AT_LINE_START = new RegExp(`^(\\s*)(${NAMES})(?=\\s|$)(.*)$`);
/** After `&&` or `;` (e.g. `open f.py && edit 2:3`); only with valid arguments, so ordinary text is left alone. */
const AFTER_SEPARATOR = new RegExp(`^(.*?(?:&&|;)\\s*)(${NAMES})(\\s+\\d+(?:\\s*:\\s*\\d+)?\\s*)$`);
/** Line numbers only: anything else after the command (a comment, a redirection) could swallow the heredoc. */
const LINE_ARGS = /^\s+(\d+)(?:\s*:\s*(\d+))?\s*$/;

interface CommandLine {
  prefix: string;
  tool: ToolCommand;
  args: string;
}

function commandLine(line: string): CommandLine | undefined {
  const m = AT_LINE_START.exec(line) ?? AFTER_SEPARATOR.exec(line);
  if (!m) return undefined;
  return { prefix: m[1]!, tool: BODY_COMMANDS.find((c) => c.name === m[2])!, args: m[3]! };
}

function isBodyEnd(line: string): boolean {
  return BODY_COMMANDS.some((c) => line.trim() === c.bodyEnd);
}

function heredocDelimiter(body: string[]): string {
  let delimiter = 'MLGYM_EOF';
  for (let n = 1; body.includes(delimiter); n++) delimiter = `MLGYM_EOF_${n}`;
  return delimiter;
}

/**
 * Turn an `edit`/`insert` command and the lines after it into a quoted heredoc, so bash hands the text
 * to the tool verbatim (quotes, backticks, `$(...)`, lines that merely resemble the end marker).
 * The body ends at the LAST line that is the end marker; the heredoc carries the body and then the
 * marker line, which the tool requires. Lines before the command and after the marker stay shell
 * commands. One such command per action; other actions pass through unchanged (CRLF becomes LF).
 */
export function rewriteBodies(action: string): Rewritten {
  const lines = action.replace(/\r\n/g, '\n').split('\n');
  const start = lines.findIndex((line) => commandLine(line) !== undefined);
  if (start < 0) return { command: lines.join('\n') };
  const { prefix, tool, args } = commandLine(lines[start]!)!;
  const usage = `Write \`${tool.signature}\` on a line of its own, then the new lines, then a line containing only \`${tool.bodyEnd}\`.`;
  const lineArgs = LINE_ARGS.exec(args);
  if (!lineArgs) return { error: `Malformed \`${tool.name}\` command: "${lines[start]!.trim()}". ${usage} Nothing was changed.` };
  let end = -1;
  lines.forEach((line, i) => {
    if (i > start && line.trim() === tool.bodyEnd) end = i;
  });
  if (end < 0) return { error: `The \`${tool.name}\` command has no end marker. ${usage} Nothing was changed.` };
  const body = lines.slice(start + 1, end);
  const rest = lines.slice(end + 1);
  const anotherCommand = body.some((line, i) => isBodyEnd(line) && i + 1 < body.length && commandLine(body[i + 1]!)) || rest.some((line) => commandLine(line));
  if (anotherCommand) return { error: 'Only one edit or insert command per action: send the others as your next actions, with line numbers that fit the file after the first change. Nothing was changed.' };
  const delimiter = heredocDelimiter(body);
  const range = lineArgs[2] === undefined ? lineArgs[1]! : `${lineArgs[1]}:${lineArgs[2]}`;
  const heredoc = [`${prefix}${tool.name} ${range} <<'${delimiter}'`, ...body, tool.bodyEnd!, delimiter];
  return { command: [...lines.slice(0, start), ...heredoc, ...rest].join('\n') + (rest.length ? '' : '\n') };
}
