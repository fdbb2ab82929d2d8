import type { ChatCompletionMessage, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { observationMessage, type Position } from './prompt.js';

export type Reply = Pick<ChatCompletionMessage, 'content' | 'tool_calls'>;

/** One past step: the model's accepted reply and what came back. */
export interface Exchange {
  step: number;
  reply: Reply;
  observation: string;
  /** Operator hints delivered with this observation. */
  hints: string[];
  position: Position;
}

export interface HistoryOptions {
  /** Observations shown in full; older ones shrink to a one-line note. */
  keepFull: number;
  /** Longest observation shown; longer ones keep their head and tail. */
  capChars: number;
}

export const HISTORY_DEFAULTS: HistoryOptions = { keepFull: 5, capChars: 12_000 };

export function capText(text: string, capChars: number): string {
  if (text.length <= capChars) return text;
  const head = Math.ceil(capChars / 2);
  const tail = capChars - head;
  return `${text.slice(0, head)}\n[... ${text.length - capChars} characters cut from the middle of this output ...]\n${text.slice(text.length - tail)}`;
}

function elidedNote({ step, observation }: Exchange): string {
  return `(Output of step ${step + 1} elided to save context: ${observation.split('\n').length} lines.)`;
}

export function assistantMessage(reply: Reply): ChatCompletionMessageParam {
  return { role: 'assistant', content: reply.content ?? '', ...(reply.tool_calls?.length ? { tool_calls: reply.tool_calls } : {}) };
}

/** The answer to a reply: a tool result for a tool call, else a user message. */
function answerTo(reply: Reply, content: string): ChatCompletionMessageParam {
  const call = reply.tool_calls?.[0];
  return call ? { role: 'tool', tool_call_id: call.id, content } : { role: 'user', content };
}

/** The prompt for a turn: system and task messages, then every exchange, the old ones elided. */
export function historyMessages(system: string, task: string, exchanges: Exchange[], options: HistoryOptions = HISTORY_DEFAULTS): ChatCompletionMessageParam[] {
  const firstFull = exchanges.length - options.keepFull;
  return [
    { role: 'system', content: system },
    { role: 'user', content: task },
    ...exchanges.flatMap((x, i) => {
      const text = i < firstFull ? elidedNote(x) : observationMessage(capText(x.observation, options.capChars), x.hints, x.position);
      return [assistantMessage(x.reply), answerTo(x.reply, text)];
    }),
  ];
}
