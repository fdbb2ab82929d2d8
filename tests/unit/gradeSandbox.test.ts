import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/home.js';

// The pure parts of the grader's runtime (docker/runtime/sandbox.py, grading.submitted), driven on the
// host's python3 without Docker: the agent's code in a process of its own, reached over the narrow
// protocol, and the submission read as data. Under the caller's user here (MLGYM_SANDBOX_UNISOLATED=1);
// the separate user, process limit and private files are checked in the real grader
// (tests/integration/redTeam.test.ts).

const scratch = mkdtempSync(join(tmpdir(), 'mlgym-sandbox-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

interface PyResult {
  status: number | null;
  out: unknown;
  stderr: string;
}

/** Run a Python program with the runtime on its path; it prints one JSON value as its last line. */
function python(program: string, env: Record<string, string> = {}): PyResult {
  const run = spawnSync('python3', ['-c', program], {
    env: { ...process.env, PYTHONPATH: join(repoRoot, 'docker', 'runtime'), PYTHONDONTWRITEBYTECODE: '1', MLGYM_SANDBOX_UNISOLATED: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  let out: unknown;
  try {
    out = JSON.parse(last);
  } catch {
    out = last;
  }
  return { status: run.status, out, stderr: run.stderr };
}

/**
 * The agent's module `source` in a sandbox: `script` (Python, with `box` the started sandbox) runs on
 * the evaluator's side; prints {"value": ...} or {"error": message}.
 */
function sandboxed(source: string, script: string, options = ''): PyResult {
  const file = join(scratch, `agent${counter++}.py`);
  writeFileSync(file, source);
  const program = [
    'import json, sys',
    'from sandbox import Sandbox, SandboxError, Opaque',
    `box = Sandbox(${JSON.stringify(file)}, "f", "agent.py"${options ? `, ${options}` : ''})`,
    'try:',
    '    box.start()',
    ...script.split('\n').map((l) => `    ${l}`),
    'except SandboxError as exc:',
    '    print(json.dumps({"error": exc.message}))',
    'finally:',
    '    box.close()',
  ].join('\n');
  return python(program);
}

const returns = (body: string) => `def f(*args):\n${body.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
const value = (r: PyResult) => (r.out as { value?: unknown }).value;
const error = (r: PyResult) => (r.out as { error?: string }).error;

describe('a sandboxed call', () => {
  it('returns plain data: tuples become lists, NaN stays NaN, other objects are opaque', () => {
    const r = sandboxed(returns('return [(1, 2), True, None, "x", 2.5, float("nan"), {1, 2}]'), 'v = box.call()\nprint(json.dumps({"value": [v[:5], repr(v[5]), isinstance(v[6], Opaque), repr(v[6])]}))');
    expect(value(r), r.stderr).toEqual([[[1, 2], true, null, 'x', 2.5], 'nan', true, '{1, 2}']);
  });

  it('passes the arguments through and keeps module state between calls', () => {
    const r = sandboxed('calls = []\ndef f(history, level):\n    calls.append(level)\n    return [len(history), sum(calls)]\n', 'print(json.dumps({"value": [box.call([(0, 1)], 2), box.call([], 3)]}))');
    expect(value(r), r.stderr).toEqual([
      [1, 2],
      [0, 5],
    ]);
  });

  it("seeds the agent's own random stream, reproducibly", () => {
    const r = sandboxed('import random\ndef f():\n    return random.random()\n', 'box.seed(5)\na = box.call()\nbox.seed(5)\nimport random\nprint(json.dumps({"value": [a == box.call(), a == random.Random(5).random()]}))');
    expect(value(r), r.stderr).toEqual([true, true]);
  });

  it('reports what the function raised, and an exit, as errors', () => {
    expect(error(sandboxed(returns('raise ValueError("boom")'), 'box.call()'))).toBe('f raised ValueError: boom');
    expect(error(sandboxed(returns('raise SystemExit(3)'), 'box.call()'))).toBe('f raised SystemExit: 3');
    expect(error(sandboxed(`import os\n${returns('os._exit(0)')}`, 'box.call(1)'))).toBe('the process of agent.py exited (status 0) during call 1; f must return, not exit');
    expect(error(sandboxed(`import os, signal\n${returns('os.kill(os.getpid(), signal.SIGSEGV)')}`, 'box.call()'))).toMatch(/was ended by SIGSEGV during call 1/);
  });

  it('reports an import that raises or exits, and a missing function', () => {
    expect(error(sandboxed('x = 1 / 0\n', ''))).toBe('importing agent.py raised ZeroDivisionError: division by zero');
    expect(error(sandboxed('import sys\nsys.exit(0)\n', ''))).toBe('importing agent.py raised SystemExit: 0');
    expect(error(sandboxed('import os\nos._exit(7)\n', ''))).toBe('the process of agent.py exited (status 7) during importing it; f must return, not exit');
    expect(error(sandboxed('def g():\n    return 1\n', ''))).toBe('missing');
  });

  it("keeps the agent's prints out of the replies", () => {
    const r = sandboxed(`import os, sys\n${returns('print("{\\"ok\\": 99}")\nos.write(1, b"{\\"ok\\": 98}\\n")\nsys.stdout.flush()\nreturn 1')}`, 'print(json.dumps({"value": [box.call(), box.call()]}))');
    expect(value(r), r.stderr).toEqual([1, 1]);
  });

  it('stops a call that takes too long, and a sandbox that runs too long in all', () => {
    const slow = sandboxed(`import time\n${returns('time.sleep(30)')}`, 'box.call()', 'call_timeout_s=0.5');
    expect(error(slow)).toBe('f took more than 0.5 s to answer call 1; make it faster');
    const long = sandboxed(`import time\n${returns('time.sleep(0.2)\nreturn 1')}`, 'while True:\n    box.call()', 'call_timeout_s=5, total_timeout_s=1');
    expect(error(long)).toBe('agent.py ran for more than 1 s in all; make f faster');
    const hang = sandboxed('import time\ntime.sleep(30)\ndef f():\n    return 1\n', '', 'import_timeout_s=0.5');
    expect(error(hang)).toBe('f took more than 0.5 s to answer importing it; make it faster');
  });

  it('refuses a flood and a malformed reply on the reply channel', () => {
    // The agent's code finds the reply pipe among its descriptors and writes to it directly.
    const find = 'import os\nfds = range(3, 20)\n';
    const flood = sandboxed(`${find}${returns('for fd in fds:\n    try:\n        os.write(fd, b"x" * (2 << 20))\n    except OSError:\n        pass\nreturn 1')}`, 'box.call()');
    expect(error(flood)).toMatch(/^agent\.py sent more than 1048576 bytes in reply to call 1$|malformed reply/);
    const garbage = sandboxed(`${find}${returns('for fd in fds:\n    try:\n        os.write(fd, b"Score: 5\\n")\n    except OSError:\n        pass\nreturn 1')}`, 'box.call()');
    expect(error(garbage)).toMatch(/^agent\.py sent a malformed reply to call 1: b'Score: 5'$/);
  });

  it('stops a process that answers ahead and stops reading its requests', () => {
    // The first call writes 200,000 forged replies straight to the reply pipe, then never returns: the
    // evaluator reads them as the moves of later calls until its requests fill the pipe nobody reads.
    const ahead = sandboxed(
      `import os, time\n${returns('for fd in range(3, 20):\n    try:\n        os.write(fd, b"{\\"ok\\": 1}\\n" * 200000)\n    except OSError:\n        pass\ntime.sleep(60)')}`,
      'while True:\n    box.call(list(range(50)))',
      'call_timeout_s=1',
    );
    expect(error(ahead), ahead.stderr).toMatch(/^f took more than 1 s to answer call \d+; make it faster$/);
  });

  it('limits memory', () => {
    const r = sandboxed(returns('return len(bytearray(2 << 30))'), 'box.call()', 'memory_mb=256');
    expect(error(r)).toBe('f raised MemoryError: ');
  });

  it("gives the agent's process neither the evaluator's environment nor its modules", () => {
    const r = python(
      [
        'import json, os',
        `open(${JSON.stringify(join(scratch, 'spy.py'))}, "w").write("import os, sys\\ndef f():\\n    return [sorted(k for k in os.environ if k.startswith('MLGYM') and k != 'MLGYM_SANDBOX_LIMITS'), 'grading' in sys.modules, 'sandbox' in sys.modules, os.getcwd() == os.path.dirname(__file__), sorted(os.listdir('.'))]\\n")`,
        'import grading',
        `box = grading.Sandbox(${JSON.stringify(join(scratch, 'spy.py'))}, "f", "strategy.py")`,
        'box.start()',
        'print(json.dumps(box.call()), file=grading._RESULT)',
        'box.close()',
      ].join('\n'),
      { MLGYM_SECRETS: '{"seed": 4104}', MLGYM_SPLIT: 'test' },
    );
    expect(r.out, r.stderr).toEqual([[], false, false, true, ['strategy.py']]);
  });
});

/** grading.submitted(name, ...) over a workspace made by `make`; prints {"value": content or listing} or {"error": ...}. */
function submitted(make: (ws: string) => void, call: string, read = 'open(path).read()'): PyResult {
  const ws = join(scratch, `ws${counter++}`);
  mkdirSync(ws);
  make(ws);
  const program = [
    'import json, os, sys',
    'import grading',
    'def fail(message):',
    '    print(json.dumps({"error": message}), file=grading._RESULT, flush=True)',
    '    sys.exit(1)',
    'grading.fail = fail',
    `path = grading.${call}`,
    `print(json.dumps({"value": ${read}, "private": oct(os.stat(path).st_mode & 0o777)}), file=grading._RESULT)`,
  ].join('\n');
  return python(program, { MLGYM_WORKSPACE: ws });
}

describe('the submission, read as data', () => {
  it('copies a regular file into a private copy', () => {
    const r = submitted((ws) => writeFileSync(join(ws, 'submission.csv'), 'Id,SalePrice\n1,2\n'), 'submitted("submission.csv")');
    expect(r.out, r.stderr).toEqual({ value: 'Id,SalePrice\n1,2\n', private: '0o600' });
  });

  it('copies a folder of regular files, hard links among its own files included', () => {
    const r = submitted(
      (ws) => {
        mkdirSync(join(ws, 'checkpoints', 'sub'), { recursive: true });
        writeFileSync(join(ws, 'checkpoints', 'a.pkl'), 'A');
        linkSync(join(ws, 'checkpoints', 'a.pkl'), join(ws, 'checkpoints', 'sub', 'b.pkl'));
      },
      'submitted("checkpoints", kind="dir")',
      '[open(os.path.join(path, "a.pkl")).read(), open(os.path.join(path, "sub", "b.pkl")).read(), os.stat(os.path.join(path, "a.pkl")).st_nlink]',
    );
    expect(r.out, r.stderr).toEqual({ value: ['A', 'A', 1], private: '0o700' });
  });

  it.each([
    ['a symbolic link', (ws: string) => symlinkSync('/etc/hostname', join(ws, 'submission.csv')), /^submission\.csv is a symbolic link; the grader reads submissions as plain files and follows no links/],
    ['a dangling symbolic link', (ws: string) => symlinkSync('/nonexistent/answers.csv', join(ws, 'submission.csv')), /^submission\.csv is a symbolic link/],
    ['a hard link to a file outside it', (ws: string) => {
      writeFileSync(join(ws, 'other.csv'), 'x');
      linkSync(join(ws, 'other.csv'), join(ws, 'submission.csv'));
    }, /^submission\.csv is a hard link to a file outside submission\.csv \(2 names, 1 of them in submission\.csv\)/],
    ['a named pipe', (ws: string) => spawnSync('mkfifo', [join(ws, 'submission.csv')]), /^submission\.csv is a named pipe \(FIFO\), not a regular file$/],
    ['a folder', (ws: string) => mkdirSync(join(ws, 'submission.csv')), /^submission\.csv must be a file, not a folder$/],
    ['too large a file', (ws: string) => writeFileSync(join(ws, 'submission.csv'), Buffer.alloc(2048)), /^submission\.csv is larger than the 1024 bytes the grader reads$/],
    ['missing', () => undefined, /^submission\.csv not found in the workspace$/],
  ])('refuses %s with a clear message', (_, make, message) => {
    const r = submitted(make, 'submitted("submission.csv", max_bytes=1024)');
    expect(r.status, r.stderr).toBe(1);
    expect(error(r)).toMatch(message);
  });

  it('refuses a link anywhere inside a submitted folder, and too many files', () => {
    const link = submitted((ws) => {
      mkdirSync(join(ws, 'checkpoints'));
      writeFileSync(join(ws, 'checkpoints', 'a.pkl'), 'A');
      symlinkSync('/etc', join(ws, 'checkpoints', 'etc'));
    }, 'submitted("checkpoints", kind="dir")');
    expect(error(link)).toMatch(/^checkpoints\/etc is a symbolic link/);
    const many = submitted((ws) => {
      mkdirSync(join(ws, 'checkpoints'));
      for (let i = 0; i < 5; i++) writeFileSync(join(ws, 'checkpoints', `${i}.pkl`), 'A');
    }, 'submitted("checkpoints", kind="dir", max_files=3)');
    expect(error(many)).toBe('checkpoints holds more than 3 files and folders');
  });

  it('says what is missing in the words the evaluation chose', () => {
    expect(error(submitted(() => undefined, 'submitted("model.pt", missing="model.pt not found: save it with torch.save")'))).toBe('model.pt not found: save it with torch.save');
  });

  it('reads the artifact once: a later call returns the same copy', () => {
    const r = submitted(
      (ws) => writeFileSync(join(ws, 'submission.csv'), 'first'),
      'submitted("submission.csv")\nopen(os.path.join(grading.workspace(), "submission.csv"), "w").write("second")\npath = grading.submitted("submission.csv")',
    );
    expect((r.out as { value: string }).value, r.stderr).toBe('first');
  });
});
