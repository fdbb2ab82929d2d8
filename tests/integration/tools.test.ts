import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { ensureAgentContainer, fillWorkspace, removeRunResources } from '../../lib/sandbox/container.js';
import { WORKSPACE } from '../../lib/sandbox/docker.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { ensureTaskImage } from '../../lib/sandbox/images.js';
import { runInSession } from '../../lib/sandbox/session.js';
import { prepareCommand } from '../../lib/tools/prepare.js';

describe('agent tools in a real container', () => {
  const runId = `tools-test-${randomBytes(3).toString('hex')}`;
  let containerId: string;
  let step = 0;

  beforeAll(async () => {
    const task = loadTask(taskFile('prisonersDilemma'), datasetsDir);
    const image = await ensureTaskImage(task, () => {});
    const container = await ensureAgentContainer({ runId, image, task, model: 'tools-test' });
    containerId = container.id;
    await fillWorkspace(containerId, task);
  });
  afterAll(async () => removeRunResources(runId));

  /** What the agent sees for an action: prepared on the host, then run in the container's session. */
  async function act(action: string): Promise<string> {
    const prepared = prepareCommand(action);
    if ('refusal' in prepared) return prepared.refusal;
    const result = await runInSession(containerId, `step-${step++}`, prepared.command, { timeoutS: 120, waitS: 120, capChars: 200_000 });
    expect(result.state).toBe('done');
    return result.output ?? '';
  }

  async function writeFile(path: string, content: string | Buffer): Promise<void> {
    const write = 'import sys, base64; open(sys.argv[1], "wb").write(base64.b64decode(sys.stdin.read()))';
    const result = await execIn(containerId, ['python3', '-c', write, path], { stdin: Buffer.from(content).toString('base64'), workdir: WORKSPACE });
    expect(result.exitCode).toBe(0);
  }

  async function readFile(path: string): Promise<Buffer> {
    const result = await execIn(containerId, ['base64', '-w0', path], { workdir: WORKSPACE });
    expect(result.exitCode).toBe(0);
    return Buffer.from(result.stdout, 'base64');
  }

  const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');

  it("shows MLGym's window of 1000 numbered lines with the lines above and below, at the edges too", async () => {
    await writeFile('w.txt', numbered(2500));
    const top = await act('open w.txt');
    expect(top.split('\n').slice(0, 2)).toEqual([`[File: ${WORKSPACE}/w.txt (2500 lines total)]`, '1:line 1']);
    expect(top).toContain('1000:line 1000\n(1500 more lines below)');
    expect(top).not.toContain('more lines above');

    const bottom = await act('open w.txt 2500');
    expect(bottom).toContain('(1500 more lines above)\n1501:line 1501');
    expect(bottom.trimEnd().endsWith('2500:line 2500')).toBe(true);
    expect(bottom).not.toContain('more lines below');

    const middle = await act('goto 1250');
    expect(middle).toContain('(750 more lines above)\n751:line 751');
    expect(middle).toContain('1750:line 1750\n(750 more lines below)');

    const past = await act('goto 9000');
    expect(past).toContain('Warning: line 9000 is past the end of the file (2500 lines)');
    expect(past.trimEnd().endsWith('2500:line 2500')).toBe(true);

    // Scrolling keeps 2 lines of the window before (MLGym's OVERLAP).
    await act('open w.txt');
    expect(await act('scroll_down')).toContain('(998 more lines above)\n999:line 999\n');
    expect(await act('scroll_up')).toContain('1000:line 1000\n(1500 more lines below)');
    expect(await act('scroll_up')).toContain('1:line 1\n');
    expect(await act('open w.txt 0')).toContain('Error: line numbers start at 1.');

    await writeFile('short.txt', 'only\n');
    expect(await act('open short.txt 1')).toBe(`[File: ${WORKSPACE}/short.txt (1 lines total)]\n1:only\n`);
    const small = await act('open short.txt');
    expect(small).not.toMatch(/more lines (above|below)/);
  });

  it('cuts a window of long lines to what one observation holds, and scrolls on from its last line', async () => {
    await writeFile('wide.txt', Array.from({ length: 400 }, (_, i) => `${i + 1} ${'x'.repeat(190)}\n`).join(''));
    const first = await act('open wide.txt');
    expect(first.length).toBeLessThan(20_000);
    const last = Number(/\n(\d+):\d+ x+\n\((\d+) more lines below\)/.exec(first)![1]);
    expect(last).toBeGreaterThan(50);
    expect(first).toContain(`(${400 - last} more lines below)`);
    const next = await act('scroll_down');
    expect(next).toContain(`(${last - 2} more lines above)\n${last - 1}:${last - 1} x`);
    expect(next.length).toBeLessThan(20_000);
  });

  it('refuses directories, missing files and binary files with a clear message', async () => {
    expect(await act('open data_missing.txt')).toContain('Error: ');
    expect(await act(`open ${WORKSPACE}`)).toContain('is a directory');
    await writeFile('model.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0xff]));
    expect(await act('open model.bin')).toContain('is a binary file');
  });

  it('rolls back a Python edit that adds a syntax error or an undefined name, showing proposed and original lines', async () => {
    const original = 'import math\n\n\ndef area(r):\n    return math.pi * r ** 2\n';
    await writeFile('geo.py', original);
    await act('open geo.py');

    const syntax = await act('edit 5:5\n    return math.pi * (r ** 2\nend_of_edit');
    expect(syntax).toContain('NOT applied');
    expect(syntax).toContain("SyntaxError: '(' was never closed (line 5)");
    expect(syntax).toContain('5:    return math.pi * (r ** 2');
    expect(syntax).toContain('5:    return math.pi * r ** 2');
    expect((await readFile('geo.py')).toString()).toBe(original);

    const undefinedName = await act('edit 5:5\n    return numpy.pi * r ** 2\nend_of_edit');
    expect(undefinedName).toContain("undefined name 'numpy' (line 5)");
    expect((await readFile('geo.py')).toString()).toBe(original);

    const ok = await act('edit 5:5\n    return math.tau * r ** 2 / 2\nend_of_edit');
    expect(ok).toContain('Replaced lines 5-5');
    expect(ok).toContain('5:    return math.tau * r ** 2 / 2');
    expect((await readFile('geo.py')).toString()).toBe(original.replace('math.pi * r ** 2', 'math.tau * r ** 2 / 2'));
  });

  it('passes bodies with quotes, backticks, $(...), unicode and end-marker look-alikes verbatim', async () => {
    await act('create notes.md');
    const body = ['He said "it\'s `fine`" — $(whoami) $HOME \\n', 'end_of_edit is how an edit ends', 'end_of_edit ', 'ünïcødé ✓ 🚀 中文', 'MLGYM_EOF'];
    const out = await act(['insert 0', ...body, 'end_of_insert'].join('\n'));
    expect(out).toContain('Inserted 5 lines after line 0.');
    expect((await readFile('notes.md')).toString('utf8')).toBe(body.join('\n') + '\n');
    await act(['edit 2:3', 'replaced `with` "quotes"', 'end_of_edit'].join('\n'));
    expect((await readFile('notes.md')).toString('utf8')).toBe([body[0], 'replaced `with` "quotes"', body[3], body[4]].join('\n') + '\n');
  });

  it('inserts at the end of a file, with and without a final newline, and edits empty files', async () => {
    await writeFile('end.txt', 'a\nb\n');
    await act('open end.txt');
    await act('insert 2\nc\nend_of_insert');
    expect((await readFile('end.txt')).toString()).toBe('a\nb\nc\n');

    await writeFile('nonl.txt', 'a\nb');
    await act('open nonl.txt');
    await act('insert 2\nc\nend_of_insert');
    expect((await readFile('nonl.txt')).toString()).toBe('a\nb\nc');
    expect(await act('insert 9\nd\nend_of_insert')).toContain('past the end of the file (3 lines)');

    expect(await act('create empty.py')).toContain('(0 lines total)]\n(the file is empty)');
    expect(await act('create empty.py')).toContain('already exists');
    await act('edit 1:1\nprint("hi")\nend_of_edit');
    expect((await readFile('empty.py')).toString()).toBe('print("hi")\n');
    await act('edit 1:1\nend_of_edit');
    expect((await readFile('empty.py')).toString()).toBe('');
  });

  it('keeps the CRLF line endings of a CRLF file', async () => {
    await writeFile('win.txt', 'one\r\ntwo\r\nthree\r\n');
    expect(await act('open win.txt')).toContain('2:two\n');
    await act('edit 2:2\nTWO\nzwei\nend_of_edit');
    await act('insert 0\nzero\nend_of_insert');
    expect((await readFile('win.txt')).toString()).toBe('zero\r\none\r\nTWO\r\nzwei\r\nthree\r\n');
  });

  it('opens, edits and inserts in a 20,000-line Python file', async () => {
    const lines = ['import math', ...Array.from({ length: 19_999 }, (_, i) => `x${i} = math.sqrt(${i})`)];
    await writeFile('big.py', lines.join('\n') + '\n');
    expect(await act('open big.py 10000')).toContain('(20000 lines total)');
    expect(await act('edit 10000:10001\ny = x1 + x2\nend_of_edit')).toContain('10000:y = x1 + x2');
    expect(await act('insert 19999\nz = y * 2\nend_of_insert')).toContain('20000:z = y * 2');
    expect(await act('edit 1:1\nend_of_edit')).toContain("undefined name 'math'");
    const after = (await readFile('big.py')).toString().split('\n');
    expect(after).toHaveLength(20_001);
    expect(after[9_999]).toBe('y = x1 + x2');
    expect(after[19_998]).toBe('x19998 = math.sqrt(19998)');
    expect(after[19_999]).toBe('z = y * 2');
  });

  it('refuses to edit read-only files, the agent\'s own or root\'s', async () => {
    await writeFile('frozen.txt', 'keep\n');
    await act('chmod 444 frozen.txt');
    await act('open frozen.txt');
    expect(await act('edit 1:1\nchanged\nend_of_edit')).toContain('is read-only and cannot be edited');
    expect((await readFile('frozen.txt')).toString()).toBe('keep\n');

    await act('open /opt/mlgym/tools/cli.py');
    expect(await act('insert 0\n# changed\nend_of_insert')).toContain('/opt/mlgym/tools/cli.py is read-only');
  });

  it('bounds search_dir, search_file and find_file output and says how to narrow the search', async () => {
    await act('mkdir -p many && for i in $(seq 1 150); do echo "needle $i" > many/f$i.txt; done');
    const dir = await act('search_dir needle many');
    expect(dir).toContain('Found 150 matching lines for "needle" in 150 files');
    expect(dir.split('\n').filter((l) => l.endsWith('(1 matching line)'))).toHaveLength(100);
    expect(dir).toContain('(50 more files not shown. Too many matches: narrow the search');

    const found = await act("find_file 'f1*.txt' many");
    expect(found).toContain('Found 62 files named "f1*.txt"');
    expect(await act("find_file '*.txt' many")).toContain('(50 more files not shown.');
    expect(await act('find_file strategy.py')).toContain('\nstrategy.py\n');

    await writeFile('hay.txt', Array.from({ length: 300 }, (_, i) => `hay ${i}`).join('\n'));
    const inFile = await act('search_file hay hay.txt');
    expect(inFile).toContain('Found 300 matching lines for "hay"');
    expect(inFile).toContain('200:hay 199\n(100 more lines not shown.');
    await act('open strategy.py');
    expect(await act('search_file "def row_strategy"')).toMatch(/\d+:def row_strategy/);
    expect(await act('search_dir "no such text anywhere"')).toContain('No matches');
  });

  it("takes search terms as grep patterns, as MLGym's search tools do", async () => {
    await act('mkdir -p src');
    await writeFile('src/model.py', 'import torch\nclass Net:\n    def train(self, lr=3e-4):\n        pass\n    def evaluate(self):\n        return [1]\n');
    await writeFile('src/util.py', 'def train_loop(model):\n    model.train()\n');
    const defs = await act("search_dir 'def .*train' src");
    expect(defs).toContain('Found 2 matching lines for "def .*train" in 2 files');
    expect(defs).toContain('src/model.py (1 matching line)');
    expect(defs).toContain('src/util.py (1 matching line)');
    expect(await act("search_file '^import' src/model.py")).toContain('1:import torch\n');
    expect(await act("search_file 'train(' src/util.py")).toContain('2:    model.train()');
    expect(await act("search_file 'return \\[1\\]' src/model.py")).toContain('6:        return [1]');
    expect(await act("search_file 'lr=3e-4' src/model.py")).toContain('3:    def train(self, lr=3e-4):');
    const bad = await act("search_file '[' src/model.py");
    expect(bad).toMatch(/^Error: grep could not use the pattern "\[": .*escape \. \* \[ \] \^ \$ \\ with a backslash/);
  });

  it('refuses interactive programs before they reach the container', async () => {
    expect(await act('cat strategy.py | less')).toContain('Refused: `less` is interactive');
    expect(await act('python3')).toContain('Refused: `python3`');
    expect(await act('python3 -c "print(6 * 7)"')).toBe('42\n');
  });
});
