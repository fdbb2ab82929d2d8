"""Grader for languageModelingFineWeb: mean next-token cross-entropy of the submitted GPT on held-out FineWeb tokens.

Runs in the grader container: MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'. The workspace must hold model_config.pt (a plain dict of GPTConfig fields,
saved with torch.save or pickle) and model.pt (a state dict for GPT of that config). The grader
copies both files (regular files only, no links; grading.submitted), builds the model from its own
model.py (next to this script) and loads both copies as plain data (torch.load with weights_only=True,
and an unpickler that admits only built-in values), so none of the agent's code runs. The split's tokens are the private shards here: fineweb_val_000000.bin (the
copy the agent also has) or fineweb_test_000000.bin (hidden). Prints {"val_loss": nats per token}.
Usage: MLGYM_SPLIT=test python3 evaluate.py
"""
import io
import math
import pickle
import re

import grading
from grading import fail, report

SHARDS = {"validation": "fineweb_val_000000.bin", "test": "fineweb_test_000000.bin"}
WRAPPER_PREFIXES = ("_orig_mod.", "module.")  # added by torch.compile and DistributedDataParallel
# The largest files the grader copies and reads.
CONFIG_BYTES = grading.MiB
MODEL_BYTES = 16 * 1024 * grading.MiB


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


def load_config():
    from model import EVAL_SEQ_LEN, GPT2_VOCAB, GPTConfig

    path = grading.submitted("model_config.pt", max_bytes=CONFIG_BYTES, missing="model_config.pt not found in the workspace: "
                             "save torch.save(dataclasses.asdict(config), 'model_config.pt')")
    try:
        config = GPTConfig.from_dict(load_config_dict(path))
    except ValueError as exc:
        fail(f"model_config.pt: {exc}")
    if config.vocab_size < GPT2_VOCAB:
        fail(f"model_config.pt: vocab_size {config.vocab_size} is smaller than GPT-2's {GPT2_VOCAB} token ids")
    if config.block_size < EVAL_SEQ_LEN:
        fail(f"model_config.pt: block_size {config.block_size} is below the evaluation's {EVAL_SEQ_LEN}-token windows")
    return config


def load_state_dict(model):
    import torch

    path = grading.submitted("model.pt", max_bytes=MODEL_BYTES,
                             missing="model.pt not found in the workspace: save torch.save(model.state_dict(), 'model.pt')")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        fail("model.pt must be a state dict of tensors, saved with torch.save(model.state_dict(), 'model.pt'); "
             f"whole modules and other objects are refused ({reason(exc)})")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail("model.pt must hold a state dict (parameter name -> tensor), as model.state_dict() returns")
    for prefix in WRAPPER_PREFIXES:
        state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}
    expected = model.state_dict()
    if model.config.tie_embeddings and "head.weight" not in state and "embed.weight" in state:
        state["head.weight"] = state["embed.weight"]  # the tied output matrix may be saved once
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        fail(f"model.pt does not match GPT(model_config): missing {missing[:5]}, unexpected {unexpected[:5]}")
    wrong = [f"{k} is {tuple(state[k].shape)}, expected {tuple(v.shape)}"
             for k, v in expected.items() if state[k].shape != v.shape]
    if wrong:
        fail(f"model.pt does not match GPT(model_config): {'; '.join(wrong[:3])}")
    if any(not v.is_floating_point() for v in state.values()):
        fail("model.pt holds tensors that are not floating point")
    if not all(torch.isfinite(v).all() for v in state.values()):
        fail("model.pt holds NaN or infinite values")
    model.load_state_dict(state)


def main():
    split = grading.split()
    import torch
    from model import GPT, mean_loss, read_tokens

    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = load_config()
    try:
        model = GPT(config)
    except (RuntimeError, MemoryError) as exc:
        fail(f"cannot build GPT(model_config): {type(exc).__name__}: {str(exc)[:300]}")
    load_state_dict(model)
    model.to(device).eval()
    shard = grading.private_file(SHARDS[split], "prepare the fineweb data set")
    try:
        loss = mean_loss(model, read_tokens(shard), device, windows_per_batch=8 if device == "cuda" else 1)
    except torch.OutOfMemoryError:
        fail("the model ran out of memory on windows of 1024 tokens")
    if not math.isfinite(loss):
        fail("the loss is not a finite number")
    report({"val_loss": round(loss, 6)})


if __name__ == "__main__":
    main()
