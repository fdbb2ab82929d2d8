import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReplay, replayTurn } from '../../lib/agent/replay.js';
import { ConfigError } from '../../lib/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('replay agent', () => {
  it('reads a YAML list of commands and replays them in order, then submits', () => {
    const steps = loadReplay(file('a.yaml', '- ls -la\n- |\n  cat > x.py << "EOF"\n  print(1)\n  EOF\n- validate\n'));
    expect(replayTurn(steps, 0)).toEqual({ action: { kind: 'command', command: 'ls -la' }, thought: '', costUsd: 0 });
    expect(replayTurn(steps, 1).action).toEqual({ kind: 'command', command: 'cat > x.py << "EOF"\nprint(1)\nEOF' });
    expect(replayTurn(steps, 2).action).toEqual({ kind: 'validate' });
    expect(replayTurn(steps, 3).action).toEqual({ kind: 'submit' });
    expect(replayTurn(steps, 99).action).toEqual({ kind: 'submit' });
  });

  it('reads a JSON list of commands or {action, thought} objects', () => {
    const steps = loadReplay(file('b.json', JSON.stringify(['pwd', { action: 'submit', thought: 'good enough' }])));
    expect(replayTurn(steps, 0).action).toEqual({ kind: 'command', command: 'pwd' });
    expect(replayTurn(steps, 1)).toEqual({ action: { kind: 'submit' }, thought: 'good enough', costUsd: 0 });
  });

  it("reads an MLGym .traj and replays its actions with their thoughts, including a recorded exit", () => {
    const traj = {
      environment: 'mlgym_main',
      trajectory: [
        { action: 'ls\n', thought: 'DISCUSSION\nLook first.', observation: 'a.py', response: '…', state: '{}', execution_time: 0.1 },
        { action: 'edit 1:1\nprint(2)\nend_of_edit\n', thought: 'Fix it.', observation: '', response: '…', state: '{}', execution_time: 0.1 },
        { action: 'exit_cost', thought: 'Exit due to cost limit', observation: '', response: '', state: '{}', execution_time: 0 },
      ],
      history: [],
      info: { exit_status: 'autosubmission (exit_cost)' },
    };
    const steps = loadReplay(file('run.traj', JSON.stringify(traj)));
    expect(replayTurn(steps, 0)).toEqual({ action: { kind: 'command', command: 'ls' }, thought: 'DISCUSSION\nLook first.', costUsd: 0 });
    expect(replayTurn(steps, 1).action).toEqual({ kind: 'command', command: 'edit 1:1\nprint(2)\nend_of_edit' });
    expect(replayTurn(steps, 2).action).toEqual({ kind: 'exit', reason: 'exit_cost' });
  });

  it('rejects files that are not a list of actions, naming the file and the item', () => {
    expect(() => loadReplay(file('c.yaml', 'actions: [ls]\n'))).toThrow(ConfigError);
    expect(() => loadReplay(file('d.json', '[1, "ls"]'))).toThrow(/\[0\]: expected a command string/);
    expect(() => loadReplay(file('e.json', '["ls",'))).toThrow(/expected a YAML or JSON replay file/);
    expect(() => loadReplay(join(dir, 'missing.yaml'))).toThrow(ConfigError);
  });
});
