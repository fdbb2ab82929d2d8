import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, repoRoot, taskFile, tasksDir } from '../../lib/home.js';
import { evaluate, expectRejected, expectScored, starter, type Evaluation } from '../helpers/evaluationChecks.js';

// 3SATTime's evaluation script (MLGym-Bench's scoring semantics) and the importer of MLGym's instance
// set, run on the host's python3 as the grader runs them.

describe('3SATTime evaluation', () => {
  const id = '3SATTime';
  const heuristic = (body: string) => ({ 'heuristic.py': body });
  it("rejects a heuristic that names no variable (MLGym's solver took it for unsatisfiable)", () =>
    expectRejected(evaluate(id, heuristic('def heuristic_fn(clauses, assignments, conflicts, history, level):\n    return None, True\n')), /^instance 0: heuristic_fn returned variable None, expected an int$/));
  it('rejects a missing heuristic.py', () => expectRejected(evaluate(id, {}), /heuristic\.py not found/));
  it('rejects a heuristic.py that raises on import or lacks heuristic_fn', () => {
    expectRejected(evaluate(id, heuristic('raise ValueError("bad module")\n')), /importing heuristic\.py raised ValueError: bad module/);
    expectRejected(evaluate(id, heuristic('def heuristic(clauses):\n    return 1, True\n')), /does not define a function heuristic_fn/);
  });
  it('rejects a heuristic_fn that exits, keeping its output out of the result', () =>
    expectRejected(
      evaluate(id, heuristic('import sys\ndef heuristic_fn(*args):\n    print(\'{"Time": 0.001, "Correct": 1, "Decisions": 1}\')\n    sys.exit(0)\n')),
      /instance 0: heuristic_fn raised SystemExit: 0/,
    ));
  it('rejects a heuristic_fn that raises', () =>
    expectRejected(evaluate(id, heuristic('def heuristic_fn(clauses, assignments, conflicts, history, level):\n    return {}[0]\n')), /instance 0: heuristic_fn raised KeyError/));
  it('rejects malformed choices: wrong length, NaN, an assigned or unknown variable', () => {
    const fn = (ret: string) => heuristic(`def heuristic_fn(clauses, assignments, conflicts, history, level):\n    return ${ret}\n`);
    expectRejected(evaluate(id, fn('abs(clauses[0][0]), True, 0')), /must return a \(variable, value\) pair/);
    expectRejected(evaluate(id, fn('abs(clauses[0][0]), float("nan")')), /returned value nan, expected True or False/);
    expectRejected(evaluate(id, fn('float("nan"), True')), /returned variable nan, expected an int/);
    expectRejected(evaluate(id, fn('999, True')), /variable 999, which is not an unassigned variable in 1\.\.\d+/);
  });
  it('stops a heuristic that takes too long', () => {
    const slow = heuristic('import time\ndef heuristic_fn(clauses, assignments, conflicts, history, level):\n    time.sleep(5)\n    return abs(clauses[0][0]), True\n');
    expectRejected(evaluate(id, slow, 'validation', { MLGYM_SAT_TIME_LIMIT_S: '1' }), /the solver ran for more than 1 s on the validation split; make heuristic_fn faster/);
  });
  it("keeps the grader's solver and instance sets out of the heuristic's reach", () => {
    // heuristic.py runs in a process of its own holding only heuristic.py: the solver, and so every answer, stays the grader's.
    expectRejected(evaluate(id, heuristic('import solver\ndef heuristic_fn(*args):\n    return 1, True\n')), /^importing heuristic\.py raised ModuleNotFoundError: No module named 'solver'$/);
    expectRejected(evaluate(id, heuristic('import instances\ndef heuristic_fn(*args):\n    return 1, True\n')), /^importing heuristic\.py raised ModuleNotFoundError: No module named 'instances'$/);
  });
});

// MLGym's dataset.pkl as its released runs show it: (index, num_vars, num_clauses, clauses, is_sat, None)
// tuples with numpy int64 literals. numpy is not needed: stand-ins pickle exactly as numpy's classes do.
const MLGYM_PICKLE = `import pickle, sys, types
numpy, core, multiarray = (types.ModuleType(n) for n in ("numpy", "numpy.core", "numpy.core.multiarray"))
sys.modules.update({"numpy": numpy, "numpy.core": core, "numpy.core.multiarray": multiarray})
class dtype:
    def __init__(self, code, align=False, copy=True):
        self.code = code
    def __reduce__(self):
        return (dtype, (self.code, False, True), (3, "<", None, None, None, -1, -1, 0))
def scalar(dt, data):
    raise AssertionError("not called while pickling")
dtype.__module__, scalar.__module__ = "numpy", "numpy.core.multiarray"
numpy.dtype, multiarray.scalar = dtype, scalar
class int64(int):
    def __reduce__(self):
        return (scalar, (dtype("i8"), int(self).to_bytes(8, "little", signed=True)))
def instance(i, n, clauses, sat):
    return (i, n, len(clauses), [[int64(l) for l in c] for c in clauses], sat, None)
all_eight = [[a * 1, b * 2, c * 3] for a in (1, -1) for b in (1, -1) for c in (1, -1)]
data = [
    instance(0, 3, all_eight[:6], True),
    instance(1, 2, [[1, 2], [1, -2], [-1, 2], [-1, -2]], WRONG_LABEL),
    instance(2, 3, all_eight, False),
]
with open(sys.argv[1], "wb") as f:
    pickle.dump(data, f)
`;

describe("3SATTime with MLGym's instance set imported (import_original.py, the hook of `mlgym prepare --from`)", () => {
  const id = '3SATTime';
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlgym-3sat-import-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A grader folder (the task's evaluation script and private files) holding the set imported from `pickle`. */
  function importInto(name: string, pickleProgram: string): { grader: string; status: number | null; stderr: string } {
    const grader = join(dir, name);
    mkdirSync(grader);
    for (const file of ['evaluate.py', 'solver.py', 'instances.py']) copyFileSync(join(tasksDir, id, file), join(grader, file));
    const source = join(dir, `${name}.pkl`);
    const made = spawnSync('python3', ['-c', pickleProgram, source], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const run = spawnSync('python3', [join(tasksDir, id, 'import_original.py'), source, grader, join(dir, 'data'), join(dir, 'private')], {
      encoding: 'utf8',
      env: { ...process.env, MLGYM_IMPORT_SHOWN: `~/${name}.pkl`, PYTHONDONTWRITEBYTECODE: '1' },
    });
    return { grader, status: run.status, stderr: run.stderr };
  }

  function evaluateIn(grader: string, split: 'validation' | 'test'): Evaluation {
    const workspace = mkdtempSync(join(dir, 'ws-'));
    writeFileSync(join(workspace, 'heuristic.py'), starter(id, 'heuristic.py'));
    const run = spawnSync('python3', ['evaluate.py'], {
      cwd: grader,
      encoding: 'utf8',
      env: {
        ...process.env,
        MLGYM_SPLIT: split,
        MLGYM_SECRETS: JSON.stringify(loadTask(taskFile(id), datasetsDir).split_secrets[split]),
        MLGYM_WORKSPACE: workspace,
        PYTHONPATH: join(repoRoot, 'docker', 'runtime'),
        PYTHONDONTWRITEBYTECODE: '1',
        MLGYM_SANDBOX_UNISOLATED: '1',
      },
    });
    const last = run.stdout.trim().split('\n').pop() ?? '';
    return { exitCode: run.status, output: last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : {}, stdout: run.stdout, stderr: run.stderr };
  }

  it('imports the pickle and scores test on the set as it is, validation on it relabelled', () => {
    const { grader, status, stderr } = importInto('good', MLGYM_PICKLE.replace('WRONG_LABEL', 'False'));
    expect(status, stderr).toBe(0);
    expect(stderr).toMatch(/imported ~\/good\.pkl: 3 instances, 1 satisfiable/);
    const lines = readFileSync(join(grader, 'original', 'instances.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[1]).toEqual({ vars: 2, clauses: [[1, 2], [1, -2], [-1, 2], [-1, -2]], sat: false });
    for (const split of ['test', 'validation'] as const) {
      expect(expectScored(evaluateIn(grader, split), 'Time')).toMatchObject({ Correct: 3, Incorrect: 0 });
    }
  });

  it('ends the evaluation at the first wrong answer, as MLGym does (here a label the solver contradicts)', () => {
    const { grader, status, stderr } = importInto('mislabelled', MLGYM_PICKLE.replace('WRONG_LABEL', 'True'));
    expect(status, stderr).toBe(0);
    expectRejected(evaluateIn(grader, 'test'), /^instance 1: answered unsatisfiable, but it is satisfiable; a wrong answer makes the submission invalid$/);
  });

  it('refuses a pickle that would run code, and one of another shape, saying which file and what was expected', () => {
    const marker = join(dir, 'pwned');
    const evil = `import os, pickle, sys\nclass Evil:\n    def __reduce__(self):\n        return (os.system, ("touch ${marker}",))\npickle.dump([Evil()], open(sys.argv[1], "wb"))\n`;
    const refused = importInto('evil', evil);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^error: ~\/evil\.pkl is not a pickle of plain data \(UnpicklingError: it names (posix|os)\.system; only plain lists/m);
    expect(existsSync(marker)).toBe(false);
    const shape = importInto('shape', 'import pickle, sys\npickle.dump([(0, 3, 1, [[1, 2, 4]], True, None)], open(sys.argv[1], "wb"))\n');
    expect(shape.status).toBe(2);
    expect(shape.stderr).toMatch(/^error: ~\/shape\.pkl, instance 0: a clause must be a non-empty list of literals ±1\.\.±3, got \[1, 2, 4\]$/m);
    expect(existsSync(join(shape.grader, 'original', 'instances.jsonl'))).toBe(false);
  });
});
