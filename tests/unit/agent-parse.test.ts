import { describe, expect, it } from 'vitest';
import { actionFromCommand, parseTextReply, parseToolReply } from '../../lib/agent/parse.js';

const fence = '```';

describe('text format: discussion plus exactly one fenced command', () => {
  it('takes the discussion as the thought and the block as the command', () => {
    const parsed = parseTextReply(`Let me look around first.\n${fence}bash\nls -la\n${fence}\n`);
    expect(parsed).toEqual({ ok: true, thought: 'Let me look around first.', action: { kind: 'command', command: 'ls -la' } });
  });

  it('keeps text after the block in the thought', () => {
    const parsed = parseTextReply(`Before.\n${fence}\npwd\n${fence}\nAfter.`);
    expect(parsed.ok && parsed.thought).toBe('Before.\nAfter.');
  });

  it('maps validate, submit and exit_forfeit to their actions', () => {
    expect(parseTextReply(`Check it.\n${fence}\nvalidate\n${fence}`)).toMatchObject({ ok: true, action: { kind: 'validate' } });
    expect(parseTextReply(`Done.\n${fence}\n  submit  \n${fence}`)).toMatchObject({ ok: true, action: { kind: 'submit' } });
    expect(parseTextReply(`I give up.\n${fence}\nexit_forfeit\n${fence}`)).toMatchObject({ ok: true, action: { kind: 'exit', reason: 'exit_forfeit' } });
    expect(actionFromCommand('submit now')).toEqual({ kind: 'command', command: 'submit now' });
    expect(actionFromCommand('exit_cost')).toEqual({ kind: 'command', command: 'exit_cost' });
  });

  it('rejects an empty reply', () => {
    expect(parseTextReply('')).toEqual({ ok: false, error: expect.stringContaining('empty') });
    expect(parseTextReply('  \n\t\n')).toMatchObject({ ok: false });
  });

  it('rejects a reply without a block, also when it has inline triple backticks', () => {
    expect(parseTextReply('I will run ls now.')).toEqual({ ok: false, error: expect.stringContaining('no fenced code block') });
    expect(parseTextReply('I will run ```ls``` now.')).toMatchObject({ ok: false });
  });

  it('rejects two blocks, including a code block in the discussion', () => {
    const two = parseTextReply(`First:\n${fence}\nls\n${fence}\nthen:\n${fence}\npwd\n${fence}`);
    expect(two).toEqual({ ok: false, error: expect.stringContaining('2 fenced code blocks') });
    const snippet = parseTextReply(`The bug is here:\n${fence}python\nx = 1/0\n${fence}\nSo I fix it:\n${fence}\nsed -i s/0/1/ a.py\n${fence}`);
    expect(snippet).toMatchObject({ ok: false });
  });

  it('rejects an unclosed block, saying when the reply was cut off', () => {
    expect(parseTextReply(`Run:\n${fence}\nls`)).toEqual({ ok: false, error: expect.stringContaining('never closed') });
    expect(parseTextReply(`Run:\n${fence}\nls`, true)).toEqual({ ok: false, error: expect.stringContaining('output token limit') });
  });

  it('rejects an empty block', () => {
    expect(parseTextReply(`Hmm.\n${fence}\n\n${fence}`)).toEqual({ ok: false, error: expect.stringContaining('empty') });
  });

  it('keeps a tagged nested block inside the command (an edit body with its own fence)', () => {
    const body = ['edit 1:3', `${fence}python`, 'print("hi")', fence, 'end_of_edit'].join('\n');
    const parsed = parseTextReply(`Rewrite the README example.\n${fence}\n${body}\n${fence}`);
    expect(parsed).toEqual({ ok: true, thought: 'Rewrite the README example.', action: { kind: 'command', command: body } });
  });

  it('lets a longer outer fence hold bare inner fences', () => {
    const body = ['cat > notes.md << "EOF"', fence, 'plain block', fence, 'EOF'].join('\n');
    const parsed = parseTextReply(`Write notes.\n\`\`\`\`\n${body}\n\`\`\`\`\n`);
    expect(parsed).toMatchObject({ ok: true, action: { kind: 'command', command: body } });
  });

  it('reads a bare inner fence in a ``` block as the end of the block', () => {
    const parsed = parseTextReply(`Write.\n${fence}\ncat > a.md\n${fence}\ninner\n${fence}\n${fence}`);
    expect(parsed).toMatchObject({ ok: false });
  });
});

describe('native tool calls: one call of `run`', () => {
  const call = (name: string, args: string, id = 'c1') => ({ id, type: 'function', function: { name, arguments: args } });

  it('takes the command and the message text as the thought', () => {
    expect(parseToolReply('Looking.', [call('run', '{"command":"ls"}')])).toEqual({ ok: true, thought: 'Looking.', action: { kind: 'command', command: 'ls' } });
    expect(parseToolReply(null, [call('run', '{"command":"validate"}')])).toEqual({ ok: true, thought: '', action: { kind: 'validate' } });
  });

  it('rejects no call, two calls, an unknown tool and bad arguments', () => {
    expect(parseToolReply('just text', [])).toEqual({ ok: false, error: expect.stringContaining('no tool call') });
    expect(parseToolReply('', [call('run', '{"command":"ls"}'), call('run', '{"command":"pwd"}', 'c2')])).toEqual({ ok: false, error: expect.stringContaining('2 tool calls') });
    expect(parseToolReply('', [call('bash', '{"command":"ls"}')])).toEqual({ ok: false, error: expect.stringContaining('unknown tool "bash"') });
    expect(parseToolReply('', [call('run', '{"command":')])).toMatchObject({ ok: false });
    expect(parseToolReply('', [call('run', '{"cmd":"ls"}')])).toMatchObject({ ok: false });
    expect(parseToolReply('', [call('run', '{"command":"  "}')])).toEqual({ ok: false, error: expect.stringContaining('empty') });
  });
});
