import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { LoadedTask } from '../config/load.js';
import { RUN_TOOL_NAME } from './parse.js';

/** How the model answers: MLGym's text format, or native tool calls. */
export type ReplyFormat = 'text' | 'tools';

export const RUN_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: RUN_TOOL_NAME,
    description: 'Run one command in the shell (or `validate` / `submit`) and get its output.',
    parameters: {
      type: 'object',
      properties: { command: { type: 'string', description: 'One command; it may span several lines (a heredoc or an edit body).' } },
      required: ['command'],
      additionalProperties: false,
    },
  },
};

const FORMAT_RULES: Record<ReplyFormat, string> = {
  text: `Start each reply with your reasoning: what you know so far, what you will do next and why.
End it with exactly one fenced code block (a line of three backticks before and after) holding
exactly one command. Put no other fenced blocks in the reply; quote code in the reasoning with single
backticks. For example:

I have not looked at the files yet, so I will list the working directory.
\`\`\`
ls -la
\`\`\`

A command may span several lines (a heredoc or an edit body). If the text you write contains a
fenced block itself, open that inner block with a language tag (\`\`\`python): a bare \`\`\` line always
closes the innermost open block.`,
  tools: `Write your reasoning as the text of each reply: what you know so far, what you will do next and
why. Then call the \`${RUN_TOOL_NAME}\` tool exactly once with one command. A reply without a tool call, or
with more than one, is sent back to you unused.`,
};

const FORMAT_REMINDER: Record<ReplyFormat, string> = {
  text: 'Reply with your reasoning, then exactly one fenced code block holding one command.',
  tools: `Reply with your reasoning, then exactly one call of the \`${RUN_TOOL_NAME}\` tool.`,
};

export function systemMessage(task: LoadedTask, commandDocs: string, format: ReplyFormat): string {
  return `You are an autonomous machine-learning researcher working alone in a Linux shell inside a sandboxed
container. Nobody will answer questions: every reply must carry a command, and the next message you
get is that command's output.

COMMANDS
Any non-interactive shell command works, and so do these:

${commandDocs.trim()}

HOW TO REPLY
${FORMAT_RULES[format]}

GUIDELINES
- Interactive programs (vim, nano, less, a bare python or bash prompt) never return: do not start them.
- A command that runs longer than ${task.training_timeout} seconds is killed with everything it started; try
  short training runs first and print progress. Nothing a command starts outlives it: background jobs
  (\`&\`, \`nohup\`, \`setsid\`) are killed when it returns.
- Measure with \`validate\`: the evaluation script is not in your container and only \`validate\` counts.
- Read the starter code and look at the data before changing things; view large files in parts.
- When a command fails, read the error and change the approach instead of repeating it.
- Steps are limited. Submit before they run out; when they do, the workspace is scored as it is.`;
}

function datasetLines(task: LoadedTask): string {
  if (!task.datasets.length) return '';
  const lines = task.datasets.map((d) => `- ${d.title} (in ${d.workspaceDir}/): ${d.description.trim() || 'no description.'}`);
  return `\n\nDATA\n${lines.join('\n')}`;
}

/** Where the agent is: the footer under every observation. */
export interface Position {
  stepsUsed: number;
  maxSteps: number;
  openFile: string;
  workingDir: string;
}

export function footer({ stepsUsed, maxSteps, openFile, workingDir }: Position): string {
  return `(Steps used: ${stepsUsed} of ${maxSteps}, remaining: ${maxSteps - stepsUsed})\n(Open file: ${openFile})\n(Working directory: ${workingDir})`;
}

function hintLines(hints: string[]): string {
  return hints.map((h) => `NOTE FROM THE OPERATOR: ${h}\n\n`).join('');
}

export function taskMessage(task: LoadedTask, format: ReplyFormat, hints: string[], position: Position): string {
  return `TASK\n${task.description.trim()}${datasetLines(task)}\n\n${FORMAT_REMINDER[format]}\n\n${hintLines(hints)}${footer(position)}`;
}

/** An observation as the model sees it: the output, any operator hints, then the footer. */
export function observationMessage(observation: string, hints: string[], position: Position): string {
  const output = observation.trim() ? observation : '(The command finished without printing anything.)';
  return `${output}\n\n${hintLines(hints)}${footer(position)}`;
}

export function reaskMessage(error: string, format: ReplyFormat): string {
  return `Your last reply could not be used: ${error}\n${FORMAT_REMINDER[format]}`;
}
