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
import { buildTar, type TarEntry } from '../../lib/sandbox/tar.js';

/**
 * languageModelingFineWeb grades the agent's own model.py (tasks/languageModelingFineWeb/evaluate.py): the
 * agent's code runs only in the grader's sandbox, where export_model.py captures its forward as a JSON graph
 * of ATen operators, which the evaluator checks against an allow-list and runs itself. Each case writes a
 * workspace as the agent would (as user agent, in the task's image, on the fixture data) and grades it in
 * the real grader container. A defence counts only with a case here that attacks it.
 */

const TASK = 'languageModelingFineWeb';
const starter = readFileSync(join(tasksDir, TASK, 'model.py'), 'utf8');

/** The starter's model.py with each [from, to] replaced (each `from` must occur). */
function variant(...edits: [string, string][]): string {
  let text = starter;
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`model.py variant: ${JSON.stringify(from)} not in the starter`);
    text = text.replace(from, to);
  }
  return text;
}

/**
 * Run in the workspace by the helper container: builds GPT(GPTConfig(...)) from the workspace's model.py (the
 * starter's when there is none), gives it seeded random weights large enough for the architecture to matter,
 * saves model.pt and model_config.pt, and prints the eager losses on the validation shard with the grader's
 * metric (the starter's mean_loss): the agent's model, and the same weights in the starter's GPT where they fit
 * (the same number, not computed again, when the workspace has no model.py).
 */
const PREPARE = `
import dataclasses, importlib.util, json, os, sys, torch
sys.path.insert(0, os.getcwd())
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
reference = load("starter_model", "starter_model.py")
agent = load("model", "model.py") if os.path.exists("model.py") else reference
config = agent.GPTConfig(n_layer=2, n_head=2, n_embd=64, mlp_hidden=128)
torch.manual_seed(0)
model = agent.GPT(config).eval()
with torch.no_grad():
    for p in model.parameters():
        p.normal_(0.0, 0.2)
torch.save(model.state_dict(), "model.pt")
torch.save(dataclasses.asdict(config), "model_config.pt")
if sys.argv[1:] == ["weights-only"]:
    sys.exit(0)
tokens = reference.read_tokens("fineweb_val_000000.bin")
losses = {"agent": reference.mean_loss(model, tokens, "cpu", windows_per_batch=1), "starter": None}
try:
    other = reference.GPT(reference.GPTConfig(**dataclasses.asdict(config))).eval()
    other.load_state_dict(torch.load("model.pt"))
    losses["starter"] = losses["agent"] if agent is reference else reference.mean_loss(other, tokens, "cpu", windows_per_batch=1)
except RuntimeError:
    pass
print("LOSSES " + json.dumps(losses))
`;

const valShard = readFileSync(join(datasetsDir, 'fixtures', 'fineweb', 'fineweb_val_000000.bin'));

interface Workspace {
  /** model.py of the agent (none: the grader falls back to the starter's). */
  modelPy?: string;
  /** Files written as they are. */
  files?: Record<string, string | Buffer>;
  /** Run after PREPARE (or instead of it, with prepare: false), as agent, in the workspace. */
  shell?: string;
  prepare?: boolean;
  /** PREPARE writes the weights only, without the eager losses. */
  weightsOnly?: boolean;
}

interface Graded {
  outcomes: Record<Split, GradeOutcome | undefined>;
  /** The eager losses PREPARE printed. */
  eager?: { agent: number; starter: number | null };
}

let task: LoadedTask;
let image: string;
/** model.pt and model_config.pt as SMALL_WEIGHTS writes them. */
let smallWeights: Record<string, Buffer>;

/**
 * Runs a shell command as the agent's user in the task's image (no network, no capabilities), in the
 * workspace volume `volume` when given, after copying `files` there; its output, expected to succeed.
 */
async function runAsAgent(command: string, what: string, volume?: string, files: TarEntry[] = []): Promise<string> {
  const helper = await docker().createContainer({
    Image: image,
    User: 'agent',
    WorkingDir: volume ? WORKSPACE : '/tmp',
    Tty: true,
    Cmd: ['bash', '-c', `set -e; ${command}`],
    HostConfig: {
      Mounts: volume ? [{ Type: 'volume', Source: volume, Target: WORKSPACE }] : [],
      NetworkMode: 'none',
      CapDrop: ['ALL'],
    },
  });
  try {
    if (files.length) await helper.putArchive(await buildTar(files), { path: WORKSPACE });
    await helper.start();
    const { StatusCode } = (await helper.wait()) as { StatusCode: number };
    const log = (await helper.logs({ stdout: true, stderr: true })).toString();
    expect(StatusCode, `${what}: ${log.slice(-2000)}`).toBe(0);
    return log;
  } finally {
    await helper.remove({ force: true });
  }
}

/** The files `names` that a shell command writes, run as the agent's user in a scratch folder of the task's image. */
async function filesWrittenBy(command: string, names: string[]): Promise<Record<string, Buffer>> {
  const log = await runAsAgent(`cd "$(mktemp -d)"; ${command}; for f in ${names.join(' ')}; do base64 -w0 "$f"; echo; done`, 'writing the files');
  const lines = log.split(/\r?\n/).filter(Boolean).slice(-names.length);
  return Object.fromEntries(names.map((name, i) => [name, Buffer.from(lines[i]!, 'base64')]));
}

/** Write a workspace as the agent would, grade it in the grader container, remove it. */
async function grade(ws: Workspace, splits: Split[] = ['validation']): Promise<Graded> {
  const runId = `finewebarch-${randomBytes(4).toString('hex')}`;
  await docker().createVolume({ Name: volumeName(runId) });
  try {
    const prepare = ws.prepare ?? true;
    const steps = [
      ...(prepare ? [`python3 prepare.py${ws.weightsOnly ? ' weights-only' : ''}`, 'rm prepare.py starter_model.py fineweb_val_000000.bin'] : []),
      ...(ws.shell ? [ws.shell] : []),
    ];
    const entry = (name: string, content: string | Buffer): TarEntry => ({ name, content, mode: 0o644, uid: 1000, gid: 1000 });
    const files = [
      ...Object.entries(ws.files ?? {}).map(([name, content]) => entry(name, content)),
      ...(ws.modelPy !== undefined ? [entry('model.py', ws.modelPy)] : []),
      ...(prepare ? [entry('prepare.py', PREPARE), entry('starter_model.py', starter), entry('fineweb_val_000000.bin', valShard)] : []),
    ];
    const log = await runAsAgent(steps.join(' && ') || 'true', 'setting up the workspace', volumeName(runId), files);
    const line = log.split(/\r?\n/).find((l) => l.startsWith('LOSSES '));
    const eager = prepare && !ws.weightsOnly ? (JSON.parse(line!.slice('LOSSES '.length)) as Graded['eager']) : undefined;
    return { outcomes: await gradeWorkspace(runId, 1, image, task, splits), eager };
  } finally {
    await docker().getVolume(volumeName(runId)).remove({ force: true }).catch(() => undefined);
  }
}

const score = (outcome: GradeOutcome | undefined): number => {
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
  return (outcome as { ok: true; metrics: Record<string, number> }).metrics.val_loss!;
};
const refused = (outcome: GradeOutcome | undefined, error: RegExp) => {
  expect(outcome?.ok, JSON.stringify(outcome)).toBe(false);
  expect((outcome as { error: string }).error).toMatch(error);
};
/** The evaluation rounds to 6 decimals; the graph runs the eager model's own ATen operators. */
const ROUNDING = 1.5e-6;

// A different MLP with the starter's parameter names (so the weights also load into the starter's GPT).
const sineMlp = variant(['h = F.gelu(h)', 'h = F.gelu(h) + torch.sin(3.0 * h)']);
// One more transformer block than the config asks for: weights the starter's GPT cannot even load.
const extraBlock = variant(
  ['        self.norm = make_norm(config, config.n_embd)\n', '        self.extra = Block(config)\n        self.norm = make_norm(config, config.n_embd)\n'],
  ['            x = block(x, rotary)\n', '            x = block(x, rotary)\n        x = self.extra(x, rotary)\n'],
);
// Attention that sees the whole window: the inputs hold the targets of all positions but the last.
const lookAhead = variant(['is_causal=True', 'is_causal=False']);
// The next token's embedding added at each position: a look-ahead without touching attention.
const peekNext = variant(['        x = self.embed(tokens)\n', '        x = self.embed(tokens) + self.embed(torch.roll(tokens, -1, dims=1))\n']);
// A custom operator whose implementation is a Python function the evaluator would have to call.
const customOp = variant(
  ['class GPT(nn.Module):', `@torch.library.custom_op("mlgym_attack::peek", mutates_args=())
def peek(x: torch.Tensor) -> torch.Tensor:
    open("/tmp/peeked", "w").write("called")
    return x.clone()


@peek.register_fake
def _(x):
    return torch.empty_like(x)


class GPT(nn.Module):`],
  ['        cap = self.config.logit_softcap\n', '        logits = peek(logits)\n        cap = self.config.logit_softcap\n'],
);
// Python control flow on a token's value (.item()): not a graph of tensor operators.
const itemBranch = variant(['        x = self.embed(tokens)\n', '        if tokens[0, -1].item() > 100:\n            tokens = tokens.flip(1)\n        x = self.embed(tokens)\n']);
// At import: read the grader's files, the hidden shard and the evaluator's copies, then fail with what it found.
const looter = `import os
loot = []
for path in ["/grader/fineweb_test_000000.bin", "/grader/fineweb_val_000000.bin", "/grader/evaluate.py", "/srv/mlgym/stage/model.pt",
             "/srv/mlgym/workspace/model.pt", "/proc/1/environ"]:
    try:
        open(path, "rb").read(16)
        loot.append(path + "=READ")
    except BaseException as exc:
        loot.append(path + "=" + type(exc).__name__)
loot.append("secrets=" + str(sorted(k for k in os.environ if "SECRET" in k or "SPLIT" in k)))
raise RuntimeError("LOOT " + " ".join(loot))
`;
// At import: a result line on stdout and on every descriptor (the sandbox's reply channel included).
const forger = `import json, os
print(json.dumps({"val_loss": 0.001}), flush=True)
for fd in range(64):
    try:
        os.write(fd, b'{"val_loss": 0.001}\\n')
    except OSError:
        pass
` + starter;
/** Small weights for the starter's GPT with 1 layer of width 8 (made once, in beforeAll: smallWeights). */
const SMALL_WEIGHTS = `python3 -c "
import torch
torch.save({'n_layer': 1, 'n_head': 1, 'n_embd': 8, 'mlp_hidden': 8}, 'model_config.pt')
torch.save({'embed.weight': torch.zeros(50304, 8)}, 'model.pt')
"`;
/**
 * model.py that, at import (inside the export call), finds the sandbox's reply channel and writes its own
 * replies into it: "exported" and then `graph` as the only piece. The evaluator reads those before the
 * exporter's own, so this is a graph the agent chose freely; it is checked like any other.
 */
const graphForger = (graph: object) => `import fcntl, json, os, stat
TEXT = ${JSON.stringify(JSON.stringify(graph))}
LINES = json.dumps({"ok": ["exported", len(TEXT), 1]}) + "\\n" + json.dumps({"ok": TEXT}) + "\\n"
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            os.write(fd, LINES.encode())
    except OSError:
        pass
`;
const TOKENS_INPUT = { name: 'tokens', kind: 'tokens', shape: [1, 1024], dtype: 'int64' };
const forgedGraph = (nodes: object[], output = 'x') => ({ format: 'mlgym-aten-graph/1', inputs: [TOKENS_INPUT], nodes, output: { ref: output }, aliases: [] });
const LOGITS = { shape: [1, 1024, 50304], dtype: 'float32' };
const EVIL_PICKLE = `class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/pwned',))`;

describe('languageModelingFineWeb grades the agent\'s own architecture, through a sandboxed export and an allow-listed graph', () => {
  beforeAll(async () => {
    task = loadTask(taskFile(TASK), datasetsDir, { data: 'fixture' });
    image = await ensureTaskImage(task, () => undefined);
    smallWeights = await filesWrittenBy(SMALL_WEIGHTS, ['model.pt', 'model_config.pt']);
  }, 30 * 60_000);

  it('(a) an honest change of architecture is graded with its own code: the eager model\'s loss, not the starter GPT\'s', async () => {
    const sine = await grade({ modelPy: sineMlp });
    expect(sine.eager!.starter).not.toBeNull();
    const got = score(sine.outcomes.validation);
    expect(Math.abs(got - sine.eager!.agent), `graded ${got}, eager ${sine.eager!.agent}`).toBeLessThanOrEqual(ROUNDING);
    expect(Math.abs(got - sine.eager!.starter!), `graded ${got}, starter GPT ${sine.eager!.starter}`).toBeGreaterThan(1e-3);

    // The same seed without model.py: the grader falls back to the starter's model.py.
    const fallback = await grade({});
    const starterScore = score(fallback.outcomes.validation);
    expect(Math.abs(starterScore - fallback.eager!.agent)).toBeLessThanOrEqual(ROUNDING);

    // An extra block: parameters the starter's GPT has no place for.
    const extra = await grade({ modelPy: extraBlock });
    expect(extra.eager!.starter).toBeNull();
    expect(Math.abs(score(extra.outcomes.validation) - extra.eager!.agent)).toBeLessThanOrEqual(ROUNDING);
  }, 900_000);

  it('(b) a model that looks ahead fails the causality check, never scores', async () => {
    // Each split draws its own windows to check: both splits for one model, the validation split for the other.
    const cases: [string, Split[]][] = [[lookAhead, ['validation', 'test']], [peekNext, ['validation']]];
    for (const [modelPy, splits] of cases) {
      const { outcomes } = await grade({ modelPy, weightsOnly: true }, splits);
      for (const split of splits) {
        refused(outcomes[split], /^the model looks ahead: replacing the tokens from position \d+ on \(window \d+\) changed its logits at position \d+, before them/);
      }
    }
  }, 900_000);

  it('(c) model.py that reads the grader\'s files or forges a result at import gets nothing and no score', async () => {
    const withWeights = await grade({ modelPy: looter, prepare: false, files: smallWeights }, ['validation', 'test']);
    for (const split of ['validation', 'test'] as const) {
      const outcome = withWeights.outcomes[split]!;
      refused(outcome, /^importing model\.py raised RuntimeError: LOOT /);
      const error = (outcome as { error: string }).error;
      expect(error).not.toContain('=READ');
      expect(error).toContain('/grader/fineweb_test_000000.bin=PermissionError');
      expect(error).toContain('/srv/mlgym/stage/model.pt=PermissionError');
      expect(error).toContain('secrets=[]');
    }
    const forged = await grade({ modelPy: forger, prepare: false, files: smallWeights }, ['validation', 'test']);
    for (const split of ['validation', 'test'] as const) refused(forged.outcomes[split], /^export_model\.py sent a malformed reply to call 1: /);
  }, 900_000);

  it('(d) operators outside the allow-list and Python control flow on values are refused with a clear message', async () => {
    const custom = await grade({ modelPy: customOp, weightsOnly: true });
    refused(custom.outcomes.validation, /^the exported graph uses the operator mlgym_attack\.peek\.default \(node \w+\), which the grader does not run: only pure ATen tensor operators are allowed/);
    const item = await grade({ modelPy: itemBranch, weightsOnly: true });
    refused(item.outcomes.validation, /^torch\.export\.export could not capture GPT's forward as a graph of ATen operators \(on a \(1, 1024\) int64 token input\): /);
  }, 900_000);

  it('(e) model.pt and model_config.pt pickles that run code are refused before any code of the agent runs', async () => {
    const weights = await grade({ modelPy: starter, prepare: false, shell: `python3 -c "
import os, torch
${EVIL_PICKLE}
torch.save({'n_layer': 1, 'n_head': 1, 'n_embd': 8, 'mlp_hidden': 8}, 'model_config.pt')
torch.save({'embed.weight': Evil()}, 'model.pt')
"` });
    refused(weights.outcomes.validation, /^model\.pt must be a state dict of tensors.*are refused \(UnpicklingError: it refers to posix\.system\)$/);
    const config = await grade({ modelPy: starter, prepare: false, shell: `python3 -c "
import os, pickle, torch
${EVIL_PICKLE}
pickle.dump(Evil(), open('model_config.pt', 'wb'))
torch.save({}, 'model.pt')
"` });
    refused(config.outcomes.validation, /^model_config\.pt must be a plain dict of GPTConfig fields.*refused \(UnpicklingError: it refers to posix\.system\)/s);
    // A config value that is an object (a tensor) is not passed to the agent's GPTConfig either.
    const tensorConfig = await grade({ modelPy: starter, prepare: false, shell: `python3 -c "
import torch
torch.save({'n_layer': torch.tensor(1)}, 'model_config.pt')
torch.save({}, 'model.pt')
"` });
    refused(tensorConfig.outcomes.validation, /^model_config\.pt: the values of \['n_layer'\] are not plain numbers, strings or lists$/);
  }, 900_000);

  it('(f) a graph the agent writes into the reply channel itself is checked like any other: allow-list, arguments, and a loss computed here', async () => {
    const cases: [object, RegExp][] = [
      [forgedGraph([{ name: 'x', op: 'aten.add_.Tensor', args: [{ ref: 'tokens' }, 1], kwargs: {}, out: { shape: [1, 1024], dtype: 'int64' } }]),
        /^the exported graph uses the operator aten\.add_\.Tensor \(node x\) \(it writes into a tensor in place\), which the grader does not run/],
      [forgedGraph([{ name: 'x', op: 'higher_order.cond', args: [true, { ref: 'tokens' }], kwargs: {}, out: LOGITS }]),
        /^the exported graph uses the operator higher_order\.cond \(node x\), which the grader does not run/],
      [forgedGraph([{ name: 'x', op: 'aten.empty.memory_format', args: [[1, 1024, 50304]], kwargs: {}, out: LOGITS }]),
        /^the exported graph uses the operator aten\.empty\.memory_format \(node x\), which the grader does not run/],
      [forgedGraph([{ name: 'x', op: 'aten.zeros.default', args: [[1, 1024, 50304]], kwargs: { dtype: { pickle: 'cos\nsystem' } }, out: LOGITS }]),
        /^the exported graph's node x passes an argument the grader does not accept/],
      [forgedGraph([{ name: 'x', op: 'aten.add.Tensor', args: [{ ref: 'y' }, 1], kwargs: {}, out: LOGITS }]),
        /^the exported graph's node x refers to y, which is not an earlier value$/],
      [forgedGraph([{ name: 'x', op: 'aten.zeros.default', args: [[1, 1024, 60000]], kwargs: {}, out: LOGITS }]),
        /^node x of the exported graph returned \(1, 1024, 60000\), it was captured with shape \(1, 1024, 50304\)$/],
    ];
    for (const [graph, error] of cases) {
      const { outcomes } = await grade({ modelPy: graphForger(graph), prepare: false, files: smallWeights });
      refused(outcomes.validation, error);
    }
    // Uniform logits: a forged graph scores what it computes (ln 50,304, up to float32 rounding), whatever it claims.
    const uniform = forgedGraph([{ name: 'x', op: 'aten.zeros.default', args: [[1, 1024, 50304]], kwargs: { dtype: { dtype: 'float32' }, device: { device: 'cpu' } }, out: LOGITS }]);
    const { outcomes } = await grade({ modelPy: graphForger(uniform), prepare: false, files: smallWeights }, ['validation', 'test']);
    for (const split of ['validation', 'test'] as const) expect(Math.abs(score(outcomes[split]) - Math.log(50304))).toBeLessThanOrEqual(1e-5);
  }, 900_000);
});
