import { shownSplit, type Protocol } from '../run/protocol.js';

/**
 * Every command of the agent-computer interface, documented once: the system prompt's command list
 * is rendered from here, and each `container` command is an executable in docker/runtime/bin.
 */

/** Where a command runs: in the agent's container, on the host (toolExec), or in the workflow. */
export type ToolKind = 'container' | 'host' | 'workflow';

export interface ToolCommand {
  name: string;
  /** The command line as the agent writes it. */
  signature: string;
  doc: string;
  kind: ToolKind;
  /** For commands followed by lines of text: the line that ends them. */
  bodyEnd?: string;
}

export const TOOL_COMMANDS: readonly ToolCommand[] = [
  {
    name: 'open',
    signature: 'open <path> [<line>]',
    kind: 'container',
    doc: 'Open a text file and show a window of up to 1000 numbered lines (fewer when its lines are long): from the top, or centred on <line>.',
  },
  { name: 'goto', signature: 'goto <line>', kind: 'container', doc: 'Show the open file around <line>.' },
  { name: 'scroll_down', signature: 'scroll_down', kind: 'container', doc: 'Show the next window of the open file (the last 2 lines of this one on top).' },
  { name: 'scroll_up', signature: 'scroll_up', kind: 'container', doc: 'Show the previous window of the open file (the first 2 lines of this one at the bottom).' },
  { name: 'create', signature: 'create <path>', kind: 'container', doc: 'Create a new empty file and open it; fails if the file exists.' },
  {
    name: 'edit',
    signature: 'edit <start>:<end>',
    bodyEnd: 'end_of_edit',
    kind: 'container',
    doc:
      'Replace lines <start> to <end> (inclusive) of the open file with the lines that follow the command, up to a line containing only end_of_edit. ' +
      'Write every new line in full, with its indentation; no lines at all deletes the range. ' +
      'In a Python file, a change that adds a syntax error or an undefined name is not applied.',
  },
  {
    name: 'insert',
    signature: 'insert <line>',
    bodyEnd: 'end_of_insert',
    kind: 'container',
    doc: 'Insert the lines that follow the command, up to a line containing only end_of_insert, after line <line> of the open file (0: at the top). Checked like edit.',
  },
  {
    name: 'search_dir',
    signature: 'search_dir <term> [<dir>]',
    kind: 'container',
    doc: "List the files under <dir> (default: the current directory) with lines matching <term>, with match counts. <term> is a grep pattern (case-sensitive; quote it when it has spaces): 'def .*train' matches any definition whose name holds train; write \\. or \\[ to match . or [ themselves.",
  },
  { name: 'search_file', signature: 'search_file <term> [<file>]', kind: 'container', doc: 'Show the numbered lines of <file> (default: the open file) that match the grep pattern <term>.' },
  { name: 'find_file', signature: 'find_file <name> [<dir>]', kind: 'container', doc: "Find files under <dir> (default: the current directory) named <name>; wildcards such as '*.py' are allowed." },
  {
    name: 'literature_search',
    signature: 'literature_search <query> [<count>]',
    kind: 'host',
    doc: 'Search published papers; shows title, year, authors, a short abstract, a link and a PDF link where there is one for the best <count> matches (default 10, at most 100). Quote a query of several words when you give a count: literature_search "learning rate warmup" 5.',
  },
  { name: 'parse_pdf_url', signature: 'parse_pdf_url <pdf_url>', kind: 'host', doc: "Download a paper's PDF (e.g. a PDF link from literature_search) and show its text, page by page." },
  {
    name: 'memory_write',
    signature: 'memory_write <text>',
    kind: 'host',
    doc: "Save a note (everything after the command) to this task's memory; it stays available when old steps drop out of view, and later runs of the task read it too.",
  },
  { name: 'memory_read', signature: 'memory_read <query>', kind: 'host', doc: "Show the 3 notes in this task's memory that best match <query>." },
  { name: 'validate', signature: 'validate', kind: 'workflow', doc: validateDoc('validation') },
  { name: 'submit', signature: 'submit', kind: 'workflow', doc: 'Submit your current solution as final and end the run.' },
];

/** The memory tools, offered only for a task with MLGym's memory_enabled. */
const MEMORY_TOOLS = new Set(['memory_write', 'memory_read']);

/**
 * The commands a run of `task` under `protocol` is offered: every one, less the memory tools unless the task
 * enables memory, with `validate` naming the split it shows (shownSplit: the test split under MLGym's protocol).
 */
export function commandsFor(task: { memory_enabled?: boolean; validate_shows?: 'validation' | 'test' }, protocol?: Protocol): readonly ToolCommand[] {
  const split = shownSplit('validate', task.validate_shows ?? 'validation', protocol);
  return TOOL_COMMANDS.filter((c) => task.memory_enabled || !MEMORY_TOOLS.has(c.name)).map((c) => (c.name === 'validate' ? { ...c, doc: validateDoc(split) } : c));
}

function validateDoc(split: 'validation' | 'test'): string {
  return `Evaluate your current submission and show its score on the ${split} split; the run continues.`;
}

export function findToolCommand(name: string): ToolCommand | undefined {
  return TOOL_COMMANDS.find((c) => c.name === name);
}

/** The command list for the system prompt. */
export function commandDocs(commands: readonly ToolCommand[] = TOOL_COMMANDS): string {
  return commands
    .map((c) => {
      const usage = c.bodyEnd ? `${c.signature}\n<new lines>\n${c.bodyEnd}` : c.signature;
      return `${usage}\n    ${c.doc}`;
    })
    .join('\n\n');
}
