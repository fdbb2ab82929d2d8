import { describe, expect, it } from 'vitest';
import { capText, historyMessages, type Exchange } from '../../lib/agent/history.js';
import { footer, observationMessage } from '../../lib/agent/prompt.js';

const position = (stepsUsed: number) => ({ stepsUsed, maxSteps: 50, openFile: 'n/a', workingDir: '/home/agent/workspace' });

function exchange(step: number, observation: string, hints: string[] = []): Exchange {
  return { step, reply: { content: `step ${step}\n\`\`\`\necho ${step}\n\`\`\``, tool_calls: undefined }, observation, hints, position: position(step + 1) };
}

describe('history processor', () => {
  it('keeps system and task messages and the last 5 observations in full, older ones as a one-line note', () => {
    const exchanges = Array.from({ length: 8 }, (_, i) => exchange(i, `line a of ${i}\nline b of ${i}\nline c`));
    const messages = historyMessages('SYSTEM', 'TASK', exchanges);
    expect(messages).toHaveLength(2 + 2 * 8);
    expect(messages.slice(0, 2)).toEqual([
      { role: 'system', content: 'SYSTEM' },
      { role: 'user', content: 'TASK' },
    ]);
    const observations = messages.filter((m, i) => i >= 2 && m.role === 'user').map((m) => m.content as string);
    expect(observations.slice(0, 3)).toEqual([1, 2, 3].map((n) => `(Output of step ${n} elided to save context: 3 lines.)`));
    expect(observations.slice(3)).toEqual([3, 4, 5, 6, 7].map((i) => observationMessage(`line a of ${i}\nline b of ${i}\nline c`, [], position(i + 1))));
    // the model's own replies are kept in full
    expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(8);
    expect(messages[2]).toEqual({ role: 'assistant', content: 'step 0\n```\necho 0\n```' });
  });

  it('caps a long observation, keeping its head and tail and the footer', () => {
    const long = 'HEAD' + 'x'.repeat(50_000) + 'TAIL';
    const [, , , last] = historyMessages('S', 'T', [exchange(0, long)], { keepFull: 5, capChars: 1000 });
    const text = last!.content as string;
    expect(text.length).toBeLessThan(1400);
    expect(text.startsWith('HEAD')).toBe(true);
    expect(text).toContain('TAIL\n');
    expect(text).toContain(`${long.length - 1000} characters cut from the middle`);
    expect(text.endsWith(footer(position(1)))).toBe(true);
    expect(capText('short', 10)).toBe('short');
  });

  it('says so when a command printed nothing, and adds operator hints before the footer', () => {
    const [, , , obs] = historyMessages('S', 'T', [exchange(0, '', ['try a smaller model'])]);
    expect(obs!.content).toBe(`(The command finished without printing anything.)\n\nNOTE FROM THE OPERATOR: try a smaller model\n\n${footer(position(1))}`);
    expect(footer(position(1))).toBe('(Steps used: 1 of 50, remaining: 49)\n(Open file: n/a)\n(Working directory: /home/agent/workspace)');
  });

  it('answers a tool call with a tool message carrying its id', () => {
    const x: Exchange = {
      ...exchange(0, 'out'),
      reply: { content: 'thinking', tool_calls: [{ id: 'call_7', type: 'function', function: { name: 'run', arguments: '{"command":"ls"}' } }] },
    };
    const [, , assistant, answer] = historyMessages('S', 'T', [x]);
    expect(assistant).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_7' }] });
    expect(answer).toMatchObject({ role: 'tool', tool_call_id: 'call_7' });
  });
});
