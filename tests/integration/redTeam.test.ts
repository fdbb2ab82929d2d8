import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTask, type LoadedTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile, tasksDir } from '../../lib/home.js';
import { docker, WORKSPACE } from '../../lib/sandbox/docker.js';
import { volumeName } from '../../lib/sandbox/container.js';
import { gradeWorkspace, type GradeOutcome, type Split } from '../../lib/sandbox/grader.js';
import { ensureTaskImage } from '../../lib/sandbox/images.js';
import { buildTar } from '../../lib/sandbox/tar.js';

/**
 * The red team: adversarial submissions for every kind of task (a game function, a SAT heuristic, CSV
 * predictions, RL checkpoints, LM model files), each written into a run's workspace volume as the agent
 * would (as user agent, in the task's image) and graded by the real grader container. Every attack must
 * end with the honest score of what the submission actually does, or with a clear evaluation error:
 * never a better score, never a secret in the message. docs/threat-model.md says what each defence stops.
 */

type Expected =
  | { error: RegExp }
  /** The same metrics as an honest reference submission graded the same way. */
  | { honest: string }
  /** The same metrics as the reference, or an evaluation error (an attack whose attempt may fail either way). */
  | { honestOrError: string; error: RegExp };

interface Attack {
  what: string;
  task: string;
  files?: Record<string, string>;
  /** Run in the workspace after the files are written, as agent (or as root where the agent cannot, e.g. mknod). */
  shell?: string;
  asRoot?: boolean;
  splits?: Split[];
  expected: Expected;
}

const PD_VALIDATION_SEED = '1729';
const PD_TEST_SEED = '4104';
/** Texts that must never reach the agent: the games' seeds, lines of the grader's own scripts. */
const SECRETS = [PD_VALIDATION_SEED, PD_TEST_SEED, 'def payoff(mine, theirs)', 'MLGYM_SECRETS=', 'split_secrets', '"seed"'];

const alwaysDefect = 'def row_strategy(history):\n    return 1\n';
const starterHeuristic = readFileSync(join(tasksDir, '3SATTime', 'heuristic.py'), 'utf8');
const rlConfig = readFileSync(join(tasksDir, 'rlMetaMazeMisc', 'config.yaml'), 'utf8');
/** An RL policy (src/networks.py) that answers uniform logits over MetaMaze's 4 actions; `before` runs at each step first. */
const uniformMazePolicy = (before = '') => `${before}
def evaluation_policy(request):
    if request["op"] == "load":
        return None
    ${before ? 'attack()\n    ' : ''}return [[0.0] * (request["shape"][0] * request["shape"][1] * 4)]
`;
/** A workspace for rlMetaMazeMisc: config.yaml, 5 checkpoints of one array each, and networks.py (written as a file) moved to src/. */
const rlWorkspace = `mkdir -p src checkpoints && mv networks.py src/ && python3 -c "
import numpy, pickle
for i in range(5):
    pickle.dump({'network': {'params': {'w': numpy.zeros(3, numpy.float32)}}}, open(f'checkpoints/config-42-{i}.pkl', 'wb'))
"`;
const houseIds = readFileSync(join(tasksDir, 'regressionKaggleHousePrice', 'answers.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
const constantPrices = ['Id,SalePrice', ...houseIds.map((id) => `${id},180000`)].join('\n') + '\n';

/** Python that records what each attempt yields: "name=READ:<start>" or "name=<exception type>". */
const LOOT = `
import os
loot = []
def grab(name, fn):
    try:
        loot.append(f"{name}=READ:{fn()!r}"[:200])
    except BaseException as exc:
        loot.append(f"{name}={type(exc).__name__}")
`;

const attacks: Attack[] = [
  // --- a game function (prisonersDilemma, blotto) ---------------------------------------------------
  {
    what: "the issue's exploit 1: the result stream forged at import, then os._exit(0)",
    task: 'prisonersDilemma',
    files: { 'strategy.py': 'import os, sys\nsys.modules["grading"]._RESULT.write(\'{"Score": 4.99}\\n\')\nsys.modules["grading"]._RESULT.flush()\nos._exit(0)\n' },
    expected: { error: /^importing strategy\.py raised KeyError: 'grading'$/ },
  },
  {
    what: 'a forged result on stdout and on every descriptor, then exit 0 inside the call',
    task: 'prisonersDilemma',
    files: {
      'strategy.py':
        'import os\ndef row_strategy(history):\n    print(\'{"Score": 4.99}\', flush=True)\n    for fd in range(20):\n        try:\n            os.write(fd, b\'{"Score": 4.99}\\n\')\n        except OSError:\n            pass\n    os._exit(0)\n',
    },
    expected: { error: /^strategy\.py sent a malformed reply to call 1|^the process of strategy\.py exited \(status 0\) during call 1/ },
  },
  {
    what: 'exit status 0 at import (sys.exit)',
    task: 'prisonersDilemma',
    files: { 'strategy.py': 'import sys\nprint(\'{"Score": 5}\')\nsys.exit(0)\n' },
    expected: { error: /^importing strategy\.py raised SystemExit: 0$/ },
  },
  {
    what: "reading the split's secrets: environment, /proc of every other process (environ, mem, cwd), /grader, the workspace mount and the copies",
    task: 'prisonersDilemma',
    splits: ['validation', 'test'],
    files: {
      'strategy.py': `${LOOT}
grab("env", lambda: {k: v for k, v in os.environ.items() if "SECRET" in k or "SEED" in k})
for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
    name = open(f"/proc/{pid}/comm").read().strip()
    grab(f"environ:{name}", lambda: open(f"/proc/{pid}/environ", "rb").read(200))
    grab(f"mem:{name}", lambda: open(f"/proc/{pid}/mem", "rb").read(1))
    grab(f"cwd:{name}", lambda: os.listdir(f"/proc/{pid}/cwd"))
grab("grader", lambda: os.listdir("/grader"))
grab("evaluate.py", lambda: open("/grader/evaluate.py").read())
grab("private", lambda: os.listdir("/srv/mlgym"))
grab("workspace", lambda: os.listdir("/srv/mlgym/workspace"))
grab("stage", lambda: os.listdir("/srv/mlgym/stage"))
raise RuntimeError("LOOT " + " ".join(loot))
`,
    },
    expected: { error: /^importing strategy\.py raised RuntimeError: LOOT env=READ:\{\} / },
  },
  {
    what: 'steering the evaluation: reseeding random, patching the opponent, grading helpers and sys.modules',
    task: 'prisonersDilemma',
    files: {
      'strategy.py': `import gc, random, sys
random.seed(0)
for name in ("target", "grading", "evaluate", "__main__"):
    module = sys.modules.get(name)
    for attr in ("target_column_strategy", "report", "binary_move", "payoff", "play_repeated_game"):
        try:
            setattr(module, attr, lambda *a, **k: 0)
        except Exception:
            pass
try:
    import target
    target.target_column_strategy = lambda history: 0
except ImportError:
    pass
sys.modules["target"] = type(sys)("target")
for obj in gc.get_objects():
    if getattr(obj, "__name__", "") in ("target_column_strategy", "fail", "report"):
        raise RuntimeError("found the evaluator's " + obj.__name__)
def row_strategy(history):
    random.seed(len(history))
    return 1
`,
    },
    expected: { honest: 'always-defect' },
  },
  {
    what: 'patching builtins so that an invalid move passes the checks',
    task: 'prisonersDilemma',
    files: { 'strategy.py': 'import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.int = lambda *a: 1\ndef row_strategy(history):\n    return 2\n' },
    expected: { error: /row_strategy must return 0 or 1, returned 2|^the process of strategy\.py exited/ },
  },
  {
    what: 'sleeping past the per-call limit',
    task: 'prisonersDilemma',
    files: { 'strategy.py': 'import time\ndef row_strategy(history):\n    time.sleep(3600)\n    return 1\n' },
    expected: { error: /^row_strategy took more than 10 s to answer call 1; make it faster$/ },
  },
  {
    what: 'a flood: 64 MB into every descriptor, the reply channel included',
    task: 'prisonersDilemma',
    files: { 'strategy.py': 'import os\ndef row_strategy(history):\n    for fd in range(20):\n        try:\n            os.write(fd, b"1" * (64 << 20))\n        except OSError:\n            pass\n    return 1\n' },
    expected: { error: /^strategy\.py sent more than 1048576 bytes in reply to call 1$|^strategy\.py sent a malformed reply to call 1/ },
  },
  {
    what: 'a huge return value',
    task: 'prisonersDilemma',
    files: { 'strategy.py': 'def row_strategy(history):\n    return "1" * 50_000_000\n' },
    expected: { error: /^row_strategy must return 0 or 1, returned '1111/ },
  },
  {
    what: 'a fork bomb at import',
    task: 'prisonersDilemma',
    files: {
      'strategy.py':
        'import os\nforks = 0\nfor _ in range(10000):\n    try:\n        if os.fork() == 0:\n            while True:\n                try:\n                    os.fork()\n                except OSError:\n                    pass\n        forks += 1\n    except OSError:\n        break\ndef row_strategy(history):\n    return 1\n',
    },
    expected: { honestOrError: 'always-defect', error: /^importing strategy\.py raised|^strategy\.py sent a malformed reply/ },
  },
  {
    what: 'a memory hog at import',
    task: 'prisonersDilemma',
    files: { 'strategy.py': 'blob = bytearray(16 << 30)\ndef row_strategy(history):\n    return 1\n' },
    expected: { error: /^importing strategy\.py raised MemoryError/ },
  },
  {
    what: "writing into the grader: its scripts, the runtime, the copies, the sandbox's own folder",
    task: 'prisonersDilemma',
    files: {
      'strategy.py': `${LOOT}
def write(path):
    with open(path, "a") as f:
        f.write("# changed by the agent")
for path in ("/grader/evaluate.py", "/grader/target.py", "/opt/mlgym/grading.py", "/opt/mlgym/sandbox.py", "/srv/mlgym/stage/strategy.py", __file__, "/grader/new.py", "/opt/mlgym/sitecustomize.py"):
    grab(path, lambda: write(path))
raise RuntimeError("LOOT " + " ".join(loot))
`,
    },
    expected: { error: /^importing strategy\.py raised RuntimeError: LOOT (\S+=(PermissionError|OSError|FileNotFoundError) ?)+$/ },
  },
  {
    what: 'killing, stopping and tracing the evaluator',
    task: 'prisonersDilemma',
    files: {
      'strategy.py': `import ctypes, os, signal
def attack():
    for pid in [os.getppid(), 1]:
        for sig in (signal.SIGKILL, signal.SIGSTOP):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        ctypes.CDLL(None).ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
        try:
            open(f"/proc/{pid}/mem", "r+b").write(b"x")
        except OSError:
            pass
attack()
def row_strategy(history):
    return 1
`,
    },
    expected: { honest: 'always-defect' },
  },
  {
    what: 'an object that claims to be a valid allocation',
    task: 'blotto',
    files: {
      'strategy.py': 'class Fake:\n    def __len__(self):\n        return 6\n    def __iter__(self):\n        return iter([20] * 6)\n    def __eq__(self, other):\n        return True\n    def __repr__(self):\n        return "[20, 20, 20, 20, 20, 20]"\ndef row_strategy(history):\n    return Fake()\n',
    },
    expected: { error: /^row_strategy must return a list of 6 integers, returned \[20, 20, 20, 20, 20, 20\]$/ },
  },
  // --- a SAT heuristic (3SATTime) --------------------------------------------------------------------
  {
    what: "tampering with the grader's solver and instance sets before playing the starter heuristic",
    task: '3SATTime',
    splits: ['test'],
    files: {
      'heuristic.py': `try:
    import solver
    solver.Solver.solve = lambda self, clauses: (False, None)
    solver.satisfies = lambda clauses, assignment: True
except ImportError:
    pass
try:
    import instances
    raise RuntimeError("the private instances are importable")
except ImportError:
    pass
${starterHeuristic}`,
    },
    expected: { honest: 'starter-heuristic' },
  },
  {
    what: 'hiding CPU time in a thread and a child process',
    task: '3SATTime',
    splits: ['test'],
    files: {
      'heuristic.py': `import os, threading
try:
    threading.Thread(target=lambda: sum(range(10**9)), daemon=True).start()
except RuntimeError:
    pass
try:
    if os.fork() == 0:
        os._exit(0)
except OSError:
    pass
${starterHeuristic}`,
    },
    expected: { honest: 'starter-heuristic' },
  },
  // --- CSV predictions (regressionKaggleHousePrice) --------------------------------------------------
  {
    what: "the issue's exploit 2: submission.csv a symbolic link to the grader's answers",
    task: 'regressionKaggleHousePrice',
    shell: 'ln -sf /grader/answers.csv submission.csv',
    expected: { error: /^submission\.csv is a symbolic link; the grader reads submissions as plain files and follows no links/ },
  },
  {
    what: 'a relative symbolic link that climbs out of the workspace',
    task: 'regressionKaggleHousePrice',
    shell: 'ln -s ../../../grader/answers.csv submission.csv',
    expected: { error: /^submission\.csv is a symbolic link/ },
  },
  {
    what: 'a hard link to another file',
    task: 'regressionKaggleHousePrice',
    files: { 'predictions.csv': constantPrices },
    shell: 'ln predictions.csv submission.csv',
    expected: { error: /^submission\.csv is a hard link to a file outside submission\.csv/ },
  },
  {
    what: "a hard link to the grader's answers, tried from the agent's side",
    task: 'regressionKaggleHousePrice',
    shell: 'ln /grader/answers.csv submission.csv 2>/dev/null; ln /srv/mlgym/stage/submission.csv submission.csv 2>/dev/null; true',
    expected: { error: /^submission artefact submission\.csv not found in the workspace$/ },
  },
  {
    what: 'a named pipe (a reader would block on it)',
    task: 'regressionKaggleHousePrice',
    shell: 'mkfifo submission.csv',
    expected: { error: /^submission\.csv is a named pipe \(FIFO\), not a regular file$/ },
  },
  {
    what: 'a device node (made as root: the agent cannot)',
    task: 'regressionKaggleHousePrice',
    shell: 'mknod submission.csv c 1 5',
    asRoot: true,
    expected: { error: /^submission\.csv is a character device, not a regular file$/ },
  },
  {
    what: 'an oversized file',
    task: 'regressionKaggleHousePrice',
    shell: 'truncate -s 65M submission.csv',
    expected: { error: /^submission\.csv is larger than the 64 MiB the grader reads$/ },
  },
  {
    what: 'a file the agent made private (mode 0600) is still read, with the agent\'s rights',
    task: 'regressionKaggleHousePrice',
    files: { 'submission.csv': constantPrices },
    shell: 'chmod 600 submission.csv && chmod 700 .',
    expected: { honest: 'constant-prices' },
  },
  // --- RL checkpoints (rlMetaMazeMisc) ------------------------------------------------------------------
  {
    what: 'checkpoints/ a symbolic link to /grader',
    task: 'rlMetaMazeMisc',
    files: { 'config.yaml': rlConfig },
    shell: 'ln -s /grader checkpoints',
    expected: { error: /^checkpoints is a symbolic link/ },
  },
  {
    what: 'checkpoints that run os.system when unpickled',
    task: 'rlMetaMazeMisc',
    files: { 'config.yaml': rlConfig },
    shell: `mkdir checkpoints && python3 -c "
import os, pickle
class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/pwned',))
for i in range(5):
    pickle.dump({'network': Evil()}, open(f'checkpoints/MetaMaze-misc-{i}.pkl', 'wb'))
"`,
    expected: { error: /^checkpoints\/MetaMaze-misc-0\.pkl is not a readable checkpoint: UnpicklingError: it needs posix\.system/ },
  },
  {
    what: "a link inside checkpoints/ to the grader's files",
    task: 'rlMetaMazeMisc',
    files: { 'config.yaml': rlConfig },
    shell: 'mkdir checkpoints && for i in 1 2 3 4; do echo x > checkpoints/MetaMaze-misc-$i.pkl; done && ln -s /grader/evaluate.py checkpoints/MetaMaze-misc-0.pkl',
    expected: { error: /^checkpoints\/MetaMaze-misc-0\.pkl is a symbolic link/ },
  },
  {
    what: 'config.yaml with a Python object tag',
    task: 'rlMetaMazeMisc',
    files: { 'config.yaml': 'env_name: !!python/object/apply:os.system ["touch /tmp/pwned"]\n' },
    shell: 'mkdir checkpoints',
    expected: { error: /^config\.yaml is not valid YAML/ },
  },
  {
    what: 'src/networks.py forging the score: a result line on every descriptor and into the evaluator\'s modules at each step',
    task: 'rlMetaMazeMisc',
    splits: ['validation', 'test'],
    files: {
      'config.yaml': rlConfig,
      'networks.py': uniformMazePolicy(`import os, sys
def attack():
    for fd in range(3, 64):
        try:
            os.write(fd, b'{"Reward Mean": 1000000.0, "Reward Std": 0.0}\\n')
        except OSError:
            pass
    grading = sys.modules.get("grading") or sys.modules.get("rl_grading")
    if grading is not None:
        grading.report({"Reward Mean": 1000000.0, "Reward Std": 0.0})
`),
    },
    shell: rlWorkspace,
    expected: { honestOrError: 'uniform-maze-policy', error: /^src\/networks\.py sent a malformed reply to call \d+/ },
  },
  {
    what: "src/networks.py reading the split's seeds: environment, the evaluator's /proc, /grader, the workspace mount and the copies",
    task: 'rlMetaMazeMisc',
    splits: ['validation', 'test'],
    files: {
      'config.yaml': rlConfig,
      'networks.py': `${LOOT}
grab("env", lambda: {k: v for k, v in os.environ.items() if "SECRET" in k or "SEED" in k})
for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
    grab(f"environ:{pid}", lambda: open(f"/proc/{pid}/environ", "rb").read(200))
    grab(f"mem:{pid}", lambda: open(f"/proc/{pid}/mem", "rb").read(1))
grab("grader", lambda: os.listdir("/grader"))
grab("private", lambda: os.listdir("/srv/mlgym"))
raise RuntimeError("LOOT " + " ".join(loot))
`,
    },
    shell: rlWorkspace,
    // MetaMaze's validation and test seeds (1618, 1414) appear nowhere in what comes back.
    expected: { error: /^importing src\/networks\.py raised RuntimeError: LOOT env=READ:\{\} (?!.*(1618|1414))(?!.*=READ)/ },
  },
  {
    what: 'src/networks.py answering something other than the distribution (too many numbers)',
    task: 'rlMetaMazeMisc',
    files: { 'config.yaml': rlConfig, 'networks.py': 'def evaluation_policy(request):\n    return None if request["op"] == "load" else [[0.5] * 10]\n' },
    shell: rlWorkspace,
    expected: { error: /^src\/networks\.py evaluation_policy returned 10 numbers per list, expected \d+ \(\d+ observations x 4 actions\)$/ },
  },
  // --- LM model files (languageModelingFineWeb, naturalLanguageInferenceMNLI) -------------------------
  {
    what: 'model.pt a pickle that runs code when loaded',
    task: 'languageModelingFineWeb',
    shell: `python3 -c "
import os, torch
class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/pwned',))
torch.save({'n_layer': 1, 'n_head': 1, 'n_embd': 8, 'mlp_hidden': 8}, 'model_config.pt')
torch.save({'embed.weight': Evil()}, 'model.pt')
"`,
    expected: { error: /^model\.pt must be a state dict of tensors.*are refused \(UnpicklingError: it refers to posix\.system\)$/ },
  },
  {
    what: 'model_config.pt a plain pickle that runs code when loaded',
    task: 'languageModelingFineWeb',
    shell: `python3 -c "
import os, pickle
class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/pwned',))
pickle.dump(Evil(), open('model_config.pt', 'wb'))
open('model.pt', 'wb').write(b'x')
"`,
    expected: { error: /^model_config\.pt must be a plain dict of GPTConfig fields.*refused \(UnpicklingError: it refers to posix\.system\)/s },
  },
  {
    what: 'model files that are symbolic links to the hidden test tokens',
    task: 'languageModelingFineWeb',
    shell: 'ln -s /grader/fineweb_test_000000.bin model.pt && ln -s /grader/fineweb_test_000000.bin model_config.pt',
    expected: { error: /^model_config\.pt is a symbolic link/ },
  },
  {
    what: 'a model folder whose only weights are a pickle that runs code',
    task: 'naturalLanguageInferenceMNLI',
    shell: `mkdir bert_mnli_model && python3 -c "
import json, os, torch
class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/pwned',))
json.dump({'model_type': 'bert', 'architectures': ['BertForSequenceClassification'], 'num_labels': 3, 'hidden_size': 8, 'num_hidden_layers': 1, 'num_attention_heads': 1, 'intermediate_size': 8, 'vocab_size': 100}, open('bert_mnli_model/config.json', 'w'))
torch.save({'bert.embeddings.word_embeddings.weight': Evil()}, 'bert_mnli_model/pytorch_model.bin')
"`,
    expected: { error: /^bert_mnli_model\/ holds no \.safetensors weights/ },
  },
];

/** Honest references, graded the same way as the attacks they are compared with. */
const references: Record<string, { task: string; files: Record<string, string>; shell?: string }> = {
  'always-defect': { task: 'prisonersDilemma', files: { 'strategy.py': alwaysDefect } },
  'starter-heuristic': { task: '3SATTime', files: { 'heuristic.py': starterHeuristic } },
  'constant-prices': { task: 'regressionKaggleHousePrice', files: { 'submission.csv': constantPrices } },
  'uniform-maze-policy': { task: 'rlMetaMazeMisc', files: { 'config.yaml': rlConfig, 'networks.py': uniformMazePolicy() }, shell: rlWorkspace },
};

const FIXTURE_TASKS = new Set(['rlMetaMazeMisc', 'languageModelingFineWeb', 'naturalLanguageInferenceMNLI']);
const tasks = new Map<string, { task: LoadedTask; image: string }>();
const ALL_SPLITS: Split[] = ['validation', 'test'];

/** Write a workspace as the agent would (its files owned by agent, then `shell` run in it), grade it, remove it. */
async function grade(attack: Pick<Attack, 'task' | 'files' | 'shell' | 'asRoot' | 'splits'>, step: number): Promise<Record<Split, GradeOutcome | undefined>> {
  const { task, image } = tasks.get(attack.task)!;
  const runId = `redteam-${attack.task}-${randomBytes(4).toString('hex')}`;
  await docker().createVolume({ Name: volumeName(runId) });
  try {
    const helper = await docker().createContainer({
      Image: image,
      User: attack.asRoot ? '0:0' : 'agent',
      WorkingDir: WORKSPACE,
      Cmd: ['bash', '-c', attack.shell ?? 'true'],
      HostConfig: {
        Mounts: [{ Type: 'volume', Source: volumeName(runId), Target: WORKSPACE }],
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        CapAdd: attack.asRoot ? ['MKNOD', 'DAC_OVERRIDE'] : [],
      },
    });
    try {
      const files = Object.entries(attack.files ?? {}).map(([name, content]) => ({ name, content, mode: 0o644, uid: 1000, gid: 1000 }));
      if (files.length) await helper.putArchive(await buildTar(files), { path: WORKSPACE });
      await helper.start();
      const { StatusCode } = (await helper.wait()) as { StatusCode: number };
      expect(StatusCode, `setting up the workspace: ${attack.shell}`).toBe(0);
    } finally {
      await helper.remove({ force: true });
    }
    return await gradeWorkspace(runId, step, image, task, attack.splits ?? ['validation']);
  } finally {
    await docker().getVolume(volumeName(runId)).remove({ force: true }).catch(() => undefined);
  }
}

const honestMetrics = new Map<string, Record<Split, GradeOutcome | undefined>>();

describe('the red team: adversarial submissions against the real grader container', () => {
  beforeAll(async () => {
    for (const id of new Set(attacks.map((a) => a.task))) {
      // The GPU-scale tasks on their small generated fixture (their grader's private files), the others on their real data.
      const task = loadTask(taskFile(id), datasetsDir, { data: FIXTURE_TASKS.has(id) ? 'fixture' : 'real' });
      tasks.set(id, { task, image: await ensureTaskImage(task, () => undefined) });
    }
    for (const [name, ref] of Object.entries(references)) {
      honestMetrics.set(name, await grade({ task: ref.task, files: ref.files, shell: ref.shell, splits: ALL_SPLITS }, 1));
    }
  }, 40 * 60_000);

  it('grades the honest references (the scores attacks are compared with)', () => {
    for (const [name, outcomes] of honestMetrics) {
      for (const split of ALL_SPLITS) expect(outcomes[split], `${name} ${split}`).toMatchObject({ ok: true });
    }
  });

  let step = 10;
  for (const attack of attacks) {
    it(`${attack.task}: ${attack.what}`, async () => {
      const outcomes = await grade(attack, step++);
      for (const split of attack.splits ?? ['validation']) {
        const outcome = outcomes[split]!;
        const shown = JSON.stringify(outcome);
        for (const secret of SECRETS) expect(shown, `${split} outcome shows ${secret}`).not.toContain(secret);
        const { expected } = attack;
        const honest = 'honest' in expected ? expected.honest : 'honestOrError' in expected ? expected.honestOrError : undefined;
        const reference = honest ? honestMetrics.get(honest)![split] : undefined;
        if (outcome.ok) {
          expect(reference, `${split}: scored ${shown}, expected an error`).toBeDefined();
          const machineDependent = tasks.get(attack.task)!.task.metrics.filter((m) => m.machine_dependent).map((m) => m.name);
          const comparable = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !machineDependent.includes(k)));
          expect(comparable(outcome.metrics), `${split} metrics`).toEqual(comparable((reference as { ok: true; metrics: Record<string, number> }).metrics));
        } else {
          expect('error' in expected, `${split}: failed with "${outcome.error}", expected the honest score`).toBe(true);
          expect(outcome.error, split).toMatch((expected as { error: RegExp }).error);
        }
      }
    });
  }
});
