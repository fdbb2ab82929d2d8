"""Grader for languageModelingFineWeb: mean next-token cross-entropy of the agent's own GPT on held-out FineWeb tokens.

Runs in the grader container: MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'. The workspace must hold model_config.pt (a plain dict of GPTConfig fields,
saved with torch.save or pickle) and model.pt (a state dict for GPT of that config); the architecture
is the workspace's model.py (its GPT and GPTConfig), or the starter's model.py when the workspace has
none. The grader copies the files (regular files only, no links; grading.submitted) and reads the
weights and the config as plain data (torch.load with weights_only=True, and an unpickler that admits
only built-in values). The agent's model.py never runs in this process: export_model.py, started in the
sandbox (grading.agent_function: another user, no access to the grader's files, the shards or the
secrets), imports it, builds GPT(GPTConfig(**model_config)), loads model.pt and captures its forward
with torch.export as a JSON graph of ATen operators. This process checks that graph against an
allow-list of pure operators (aten_graph.py), runs it with its own copy of the weights, computes the
cross-entropy itself, and checks that the logits are causal: for some windows (CAUSALITY_CHECKS), the tokens
after a random position are replaced by other real tokens and the logits before it must not change.
The split's tokens are the private shards here: fineweb_val_000000.bin (the copy the agent also has)
or fineweb_test_000000.bin (hidden). Prints {"val_loss": nats per token}.
Usage: MLGYM_SPLIT=test python3 evaluate.py
"""
import hashlib
import io
import json
import math
import os
import pickle
import random
import re
import shutil
import tempfile
import time

import grading
from grading import fail, report
from export_model import CHUNK_CHARS, MAX_CHARS as MAX_GRAPH_CHARS, WRAPPER_PREFIXES  # the exporter's own terms
from model import EVAL_SEQ_LEN, GPT2_VOCAB  # the grader's copy of the starter's model.py: the windows and the metric

SHARDS = {"validation": "fineweb_val_000000.bin", "test": "fineweb_test_000000.bin"}
# The largest files the grader copies and reads.
CONFIG_BYTES = grading.MiB
MODEL_BYTES = 16 * 1024 * grading.MiB
SOURCE_BYTES = grading.MiB  # model.py
# The exporter's sandbox: torch's import alone maps about 3.1 GB of address space (CUDA libraries), the
# model and the mapped model.pt come on top; the container's memory limit bounds what is really used.
SANDBOX_BASE_MB = 6144
SANDBOX = {"nproc": 64, "import_timeout_s": 120.0, "call_timeout_s": 900.0, "total_timeout_s": 1200.0,
           "env": {"CUDA_VISIBLE_DEVICES": ""}}
# Windows re-run with their tokens after a random position replaced by other real tokens: 4 of the fixture's
# 16 windows, 1 in 64 of the real data's 10,240 (160).
CAUSALITY_CHECKS, CAUSALITY_SHARE = 4, 64
CAUSALITY_TOLERANCE = 1e-5  # absolute and relative, on the logits before that position


class PlainUnpickler(pickle.Unpickler):
    """Unpickles built-in values only: refuses every class or function a pickle could name."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"it refers to {module}.{name}")


def reason(exc):
    """A short reason for a failed load: torch's weights-only refusals bury the global they met in a long text."""
    text = str(exc)
    found = re.search(r"GLOBAL ([\w.]+)", text)
    if found:
        return f"{type(exc).__name__}: it refers to {found.group(1)}"
    return f"{type(exc).__name__}: {text[:300]}"


def load_config_dict(path):
    import torch

    with open(path, "rb") as f:
        data = f.read()
    try:
        if data[:2] == b"PK":  # torch.save's zip format
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        return PlainUnpickler(io.BytesIO(data)).load()
    except Exception as exc:
        fail("model_config.pt must be a plain dict of GPTConfig fields, saved with torch.save(dataclasses.asdict(config), "
             f"'model_config.pt'); pickled objects of your own classes are refused ({reason(exc)})")


def plain(value, depth=0):
    """Whether a config value is plain data the sandbox can be sent: None, bools, numbers, strings, lists of them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)) and depth < 4 and len(value) <= 1000:
        return all(plain(v, depth + 1) for v in value)
    return False


def load_config():
    """model_config.pt as a dict of plain values. The agent's GPTConfig says which fields exist (checked in
    the sandbox); the windows' size and GPT-2's token ids are checked here when the config names them."""
    path = grading.submitted("model_config.pt", max_bytes=CONFIG_BYTES, missing="model_config.pt not found in the workspace: "
                             "save torch.save(dataclasses.asdict(config), 'model_config.pt')")
    config = load_config_dict(path)
    if not isinstance(config, dict):
        fail(f"model_config.pt: expected a dict of GPTConfig fields, got {type(config).__name__}")
    wrong = [k for k, v in config.items() if not isinstance(k, str) or not plain(v)]
    if wrong:
        fail(f"model_config.pt: the values of {[str(k)[:40] for k in wrong[:5]]} are not plain numbers, strings or lists")
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}
    for key, least, what in (("vocab_size", GPT2_VOCAB, f"smaller than GPT-2's {GPT2_VOCAB} token ids"),
                             ("block_size", EVAL_SEQ_LEN, f"below the evaluation's {EVAL_SEQ_LEN}-token windows")):
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value < least:
            fail(f"model_config.pt: {key} {value} is {what}")
    return config


def load_state_dict():
    """model.pt as a dict of finite float tensors (wrapper prefixes removed), and the path of its copy."""
    import torch

    path = grading.submitted("model.pt", max_bytes=MODEL_BYTES,
                             missing="model.pt not found in the workspace: save torch.save(model.state_dict(), 'model.pt')")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        fail("model.pt must be a state dict of tensors, saved with torch.save(model.state_dict(), 'model.pt'); "
             f"whole modules and other objects are refused ({reason(exc)})")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        fail("model.pt must hold a state dict (parameter name -> tensor), as model.state_dict() returns")
    for prefix in WRAPPER_PREFIXES:
        state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}
    if any(not v.is_floating_point() for v in state.values()):
        fail("model.pt holds tensors that are not floating point")
    if not all(torch.isfinite(v).all() for v in state.values()):
        fail("model.pt holds NaN or infinite values")
    return state, path


def model_source():
    """The path of the architecture's source: the workspace's model.py (a private copy), else the starter's (the grader's copy)."""
    if grading.present("model.py"):
        return grading.submitted("model.py", max_bytes=SOURCE_BYTES)
    return os.path.abspath("model.py")


def graph_text(config, weights_path):
    """The model's graph as JSON text: exported once per grader container. The other split finds it in the
    evaluator's private stage (MLGYM_GRADER_STAGE), next to the copies of the files it was exported from; it is
    checked again like any graph."""
    source = model_source()
    stage = os.environ.get("MLGYM_GRADER_STAGE")
    if not stage:
        return export_graph(config, weights_path, source)
    with open(source, "rb") as f:
        digest = hashlib.sha256(f.read())
    info = os.stat(weights_path)
    digest.update(json.dumps([config, info.st_size, info.st_mtime_ns], sort_keys=True).encode())
    cached = os.path.join(stage, f".graph-{digest.hexdigest()[:32]}.json")
    if os.path.isfile(cached):
        with open(cached, encoding="utf-8", errors="surrogatepass") as f:
            return f.read()
    text = export_graph(config, weights_path, source)
    try:
        with open(cached + ".part", "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(text)
        os.replace(cached + ".part", cached)
    except (OSError, UnicodeError):
        pass  # only a cache
    return text


def export_graph(config, weights_path, source):
    """The JSON text of the model's graph, captured by export_model.py in the sandbox (see its docstring)."""
    # A folder the sandbox user can read but not write: the architecture's source and a copy of model.pt.
    folder = tempfile.mkdtemp(prefix="mlgym-model-", dir=os.environ.get("MLGYM_SANDBOX_DIR", "/tmp"))
    try:
        os.chmod(folder, 0o755)
        for source, name in ((source, "model.py"), (weights_path, "model.pt")):
            shutil.copyfile(source, os.path.join(folder, name))
            os.chmod(os.path.join(folder, name), 0o444)
        memory_mb = SANDBOX_BASE_MB + 3 * (os.path.getsize(weights_path) >> 20)
        exporter = os.path.abspath("export_model.py")
        with grading.agent_function("export_model.py", "export_model", "request", copy=exporter, memory_mb=memory_mb,
                                    **SANDBOX) as box:
            reply = grading.call_agent(box, {"op": "export", "folder": folder, "config": config})
            if isinstance(reply, list) and len(reply) == 2 and reply[0] == "error" and isinstance(reply[1], str):
                fail(reply[1][:1500])
            if not (isinstance(reply, list) and len(reply) == 3 and reply[0] == "exported"
                    and all(isinstance(n, int) and not isinstance(n, bool) for n in reply[1:])):
                fail(f"the model's export answered something malformed: {str(reply)[:200]}")
            chars, chunks = reply[1], reply[2]
            if not 0 < chars <= MAX_GRAPH_CHARS or chunks != (chars + CHUNK_CHARS - 1) // CHUNK_CHARS:
                fail(f"the exported graph takes {chars} characters, the grader reads at most {MAX_GRAPH_CHARS}")
            pieces = []
            for index in range(chunks):
                piece = grading.call_agent(box, {"op": "chunk", "index": index})
                if not isinstance(piece, str) or len(piece) != min(CHUNK_CHARS, chars - index * CHUNK_CHARS):
                    fail(f"the model's export sent a malformed piece {index} of its graph")
                pieces.append(piece)
        return "".join(pieces)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class GradingError(Exception):
    pass


class Causality:
    """Wraps the graph for mean_loss (one window per call, in order) and re-runs CAUSALITY_CHECKS of the windows
    with the tokens after a random position k replaced by the same positions of another window: the logits
    at positions before k must not change. Positions and windows come from the system's random source."""

    def __init__(self, graph, tokens, windows):
        import numpy as np

        self.graph, self.tokens, self.windows, self.np = graph, tokens, windows, np
        draw = random.SystemRandom()
        self.checks = {w: draw.randrange(1, EVAL_SEQ_LEN) for w in draw.sample(range(windows), min(windows, max(CAUSALITY_CHECKS, windows // CAUSALITY_SHARE)))}
        self.draw, self.calls, self.checked = draw, 0, 0

    def __call__(self, rows):
        import torch

        window, self.calls = self.calls, self.calls + 1
        logits = self.graph.run(rows)
        if not isinstance(logits, torch.Tensor) or logits.dim() != 3 or logits.shape[:2] != rows.shape:
            raise GradingError(f"the model's logits have shape {tuple(logits.shape)}, expected (1, {EVAL_SEQ_LEN}, vocabulary)")
        if window in self.checks:
            self.check(window, self.checks[window], rows, logits)
        return logits

    def check(self, window, k, rows, logits):
        import torch

        others = [w for w in range(self.windows) if w != window]
        self.draw.shuffle(others)
        for other in others:
            start = other * EVAL_SEQ_LEN
            replacement = torch.from_numpy(self.np.asarray(self.tokens[start + k:start + EVAL_SEQ_LEN], dtype=self.np.int64))
            if int(replacement[0]) != int(rows[0, k]):
                break
        else:
            return  # no other window differs at k (a shard of one repeated text)
        changed = rows.clone()
        changed[0, k:] = replacement.to(rows.device)
        before = logits[:, :k].float()
        after = self.graph.run(changed)[:, :k].float()
        if not torch.allclose(after, before, rtol=CAUSALITY_TOLERANCE, atol=CAUSALITY_TOLERANCE):
            worst = int((after - before).abs().amax(dim=-1)[0].argmax())
            raise GradingError(
                f"the model looks ahead: replacing the tokens from position {k} on (window {window}) changed its logits at "
                f"position {worst}, before them. The logits at a position may depend only on the tokens up to it; "
                "attention must be causal (e.g. scaled_dot_product_attention(..., is_causal=True))")
        self.checked += 1


def main():
    split = grading.split()
    import torch
    from aten_graph import Graph, GraphError
    from model import mean_loss, read_tokens

    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = load_config()
    state, weights_path = load_state_dict()
    started = time.monotonic()
    text = graph_text(config, weights_path)
    exported = time.monotonic()
    try:
        graph = Graph(text, device)
        del text
        out = graph.output_meta
        if not (isinstance(out, tuple) and len(out[0]) == 3 and out[0][:2] == (1, EVAL_SEQ_LEN)):
            raise GraphError(f"the model's forward returns {out[0] if isinstance(out, tuple) else 'no tensor'}, expected logits "
                             f"of shape (1, {EVAL_SEQ_LEN}, vocabulary) for a (1, {EVAL_SEQ_LEN}) token input")
        if out[0][2] < GPT2_VOCAB:
            raise GraphError(f"the model's logits cover {out[0][2]} token ids, fewer than GPT-2's {GPT2_VOCAB}")
        graph.bind(state)
    except GraphError as exc:
        fail(str(exc))
    del state
    shard = grading.private_file(SHARDS[split], "prepare the fineweb data set")
    tokens = read_tokens(shard)
    causality = Causality(graph, tokens, (len(tokens) - 1) // EVAL_SEQ_LEN)
    try:
        loss = mean_loss(causality, tokens, device, windows_per_batch=1)
    except (GraphError, GradingError) as exc:
        fail(str(exc))
    except torch.OutOfMemoryError:
        fail("the model ran out of memory on windows of 1024 tokens")
    if not math.isfinite(loss):
        fail("the loss is not a finite number")
    if os.environ.get("MLGYM_FINEWEB_TIMING"):
        print(f"export {exported - started:.1f} s, evaluation {time.monotonic() - exported:.1f} s, "
              f"{causality.checked} causality checks", file=__import__("sys").stderr)
    report({"val_loss": round(loss, 6)})


if __name__ == "__main__":
    main()
