"""The grader's exporter: runs in the sandbox (grading.agent_function), next to nothing of the grader's.

evaluate.py starts this file in a sandboxed process (another user, no capabilities, no access to
/grader, the hidden shard or the secrets) and calls `export_model(request)`:
  {"op": "export", "folder": F, "config": {...}}  imports F/model.py (the agent's model.py, or the starter's
      when the workspace has none), builds GPT(GPTConfig(**config)), loads F/model.pt into it (strict), and
      captures model.forward on a (1, 1024) int64 token input with torch.export.export. The program is
      written into a JSON text of our own format (below), kept here, and the reply is
      ["exported", characters, chunks] or ["error", message].
  {"op": "chunk", "index": i}  the reply is the text's i-th piece of CHUNK_CHARS characters (the last
      one shorter): the sandbox's replies are capped at 1 MiB each, so the text crosses in pieces.
Everything this process sends is the agent's as far as the evaluator is concerned (the agent's model.py
runs in it and may replace any of this); the evaluator checks the graph itself (aten_graph.py).

The format (version FORMAT): {"format", "inputs", "nodes", "output", "aliases"}.
  inputs: [{"name", "kind", "key", "shape", "dtype"(, "data")}] in the graph's placeholder order; kind
    "parameter" or "buffer" (a state-dict key: the evaluator feeds the tensor from model.pt), "constant"
    (a lifted constant or non-persistent buffer: its bytes, little-endian, base64, in "data"), "tokens".
  nodes: [{"name", "op", "args", "kwargs", "out"}]: op is an ATen overload's name ("aten.linear.default")
    or "getitem"; an argument is {"ref": node or input name}, a number, a bool, null, a short string,
    a list of arguments, or one of {"dtype": name}, {"device": name}, {"layout": name},
    {"memory_format": name}, {"float": "inf" | "-inf" | "nan"}; anything else is written as
    {"unsupported": what}, which the evaluator refuses. out: {"shape", "dtype"}, a list of those (an
    operator returning several tensors), or null.
  output: {"ref": name}, the logits. aliases: [[key, other key], ...], state-dict keys that name one
    tensor (tied weights), so a model.pt that saves a tied matrix once still loads.
"""
import base64
import json
import math
import os
import sys

FORMAT = "mlgym-aten-graph/1"
EVAL_SEQ_LEN = 1024  # model.py's; in the sandbox, "model" is the agent's file, so the value is written here
CHUNK_CHARS = 65536
MAX_CHARS = 64 << 20  # the evaluator reads at most this much graph text
MESSAGE_CHARS = 900
WRAPPER_PREFIXES = ("_orig_mod.", "module.")  # added by torch.compile and DistributedDataParallel

_TEXT = []


def _short(exc):
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:MESSAGE_CHARS]}"


class _Refusal(Exception):
    pass


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def _meta(value):
    import torch

    if isinstance(value, torch.Tensor):
        return {"shape": [int(s) for s in value.shape], "dtype": _dtype_name(value.dtype)}
    if isinstance(value, (list, tuple)):
        return [_meta(v) for v in value]
    if value is None:
        return None
    return {"unsupported": type(value).__name__}


def _argument(value):
    import torch
    import torch.fx

    if isinstance(value, torch.fx.Node):
        return {"ref": value.name}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [_argument(v) for v in value]
    if isinstance(value, torch.dtype):
        return {"dtype": _dtype_name(value)}
    if isinstance(value, torch.device):
        return {"device": value.type}
    if isinstance(value, torch.layout):
        return {"layout": str(value).replace("torch.", "")}
    if isinstance(value, torch.memory_format):
        return {"memory_format": str(value).replace("torch.", "")}
    return {"unsupported": f"{type(value).__name__} {str(value)[:80]}"}


def _op_name(target):
    import operator

    import torch

    if target is operator.getitem:
        return "getitem"
    if isinstance(target, torch._ops.OpOverload):
        return str(target)  # "aten.linear.default", "mylib.callback.default", ...
    name = getattr(target, "__name__", None) or type(target).__name__
    return f"unsupported:{getattr(target, '__module__', '')}.{name}"


def _constant(value):
    import torch

    tensor = value.detach().to("cpu").contiguous()
    raw = tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
    if sys.byteorder != "little":
        raise _Refusal("the exporter needs a little-endian machine")
    return base64.b64encode(raw).decode("ascii")


def _key(target):
    """A state-dict key from an input's target: the wrapper's own prefix is not part of the model's keys."""
    return target[len("inner."):] if target.startswith("inner.") else target


def _serialise(program, aliases):
    from torch.export.graph_signature import InputKind, OutputKind

    signature = program.graph_signature
    inputs, nodes, output = [], [], None
    specs = {spec.arg.name: spec for spec in signature.input_specs if hasattr(spec.arg, "name")}
    for node in program.graph.nodes:
        if node.op == "placeholder":
            spec = specs.get(node.name)
            meta = _meta(node.meta.get("val"))
            entry = {"name": node.name, **(meta if isinstance(meta, dict) else {"unsupported": "placeholder"})}
            if spec is None:
                entry["kind"] = "unknown"
            elif spec.kind == InputKind.USER_INPUT:
                entry["kind"] = "tokens"
            elif spec.kind == InputKind.PARAMETER or (spec.kind == InputKind.BUFFER and spec.persistent):
                entry.update(kind="parameter" if spec.kind == InputKind.PARAMETER else "buffer", key=_key(spec.target))
            elif spec.kind in (InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
                entry.update(kind="constant", key=_key(spec.target), data=_constant(program.constants[spec.target]))
            else:
                entry["kind"] = f"unknown:{spec.kind.name}"
            inputs.append(entry)
        elif node.op == "call_function":
            nodes.append({"name": node.name, "op": _op_name(node.target), "args": _argument(list(node.args)),
                          "kwargs": {str(k): _argument(v) for k, v in node.kwargs.items()},
                          "out": _meta(node.meta.get("val"))})
        elif node.op == "output":
            results = node.args[0]
            kinds = [spec.kind for spec in signature.output_specs]
            if any(kind != OutputKind.USER_OUTPUT for kind in kinds):
                raise _Refusal("the model's forward changes its own state (it writes "
                               f"{', '.join(sorted({k.name for k in kinds if k != OutputKind.USER_OUTPUT}))}); "
                               "the evaluation needs a pure function of the tokens")
            if len(results) != 1:
                raise _Refusal(f"the captured forward returns {len(results)} values, expected the logits")
            output = _argument(results[0])
        else:
            nodes.append({"name": node.name, "op": f"unsupported:{node.op}", "args": [], "kwargs": {}, "out": None})
    return json.dumps({"format": FORMAT, "inputs": inputs, "nodes": nodes, "output": output, "aliases": aliases},
                      separators=(",", ":"), allow_nan=False)


def _check_state(state, expected, aliases):
    """The old grader's checks, with the agent's own model: the same keys (a tied tensor may be saved once), the same shapes."""
    for key, others in aliases.items():
        if key not in state:
            for other in others:
                if other in state:
                    state[key] = state[other]
                    break
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise _Refusal(f"model.pt does not match GPT(model_config): missing {missing[:5]}, unexpected {unexpected[:5]}")
    wrong = [f"{k} is {tuple(state[k].shape)}, expected {tuple(v.shape)}"
             for k, v in expected.items() if state[k].shape != v.shape]
    if wrong:
        raise _Refusal(f"model.pt does not match GPT(model_config): {'; '.join(wrong[:3])}")


def _export(folder, config):
    import dataclasses
    import importlib

    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, folder)
    try:
        module = importlib.import_module("model")
    except BaseException as exc:  # the agent's code may raise anything, or exit
        raise _Refusal(f"importing model.py raised {_short(exc)}") from None
    GPT, GPTConfig = getattr(module, "GPT", None), getattr(module, "GPTConfig", None)
    if not callable(GPT) or not callable(GPTConfig):
        raise _Refusal("model.py must define GPT and GPTConfig: the evaluation builds GPT(GPTConfig(**model_config))")
    if dataclasses.is_dataclass(GPTConfig):
        fields = sorted(f.name for f in dataclasses.fields(GPTConfig) if f.init)
        unknown = sorted(set(config) - set(fields))
        if unknown:
            raise _Refusal(f"model_config.pt: unknown fields {unknown}; GPTConfig has {fields}")
    try:
        settings = GPTConfig(**config)
    except BaseException as exc:
        raise _Refusal(f"model_config.pt: GPTConfig(**model_config) raised {_short(exc)}") from None
    try:
        model = GPT(settings)
    except BaseException as exc:
        raise _Refusal(f"cannot build GPT(model_config): {_short(exc)}") from None
    if not isinstance(model, torch.nn.Module):
        raise _Refusal("GPT(...) must build a torch.nn.Module")
    model.eval()

    # Keys that name one tensor (tied weights): either may stand for the other in model.pt.
    expected = model.state_dict(keep_vars=True)
    by_tensor = {}
    for key, value in expected.items():
        by_tensor.setdefault((value.data_ptr(), tuple(value.shape), value.dtype), []).append(key)
    aliases = {key: [k for k in keys if k != key] for keys in by_tensor.values() if len(keys) > 1 for key in keys}
    try:
        state = torch.load(os.path.join(folder, "model.pt"), map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:
        raise _Refusal(f"model.pt cannot be read as a state dict ({_short(exc)})") from None
    if not isinstance(state, dict):
        raise _Refusal("model.pt must hold a state dict (parameter name -> tensor), as model.state_dict() returns")
    for prefix in WRAPPER_PREFIXES:
        state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}
    _check_state(state, expected, aliases)
    try:
        model.load_state_dict(state)
    except BaseException as exc:
        raise _Refusal(f"loading model.pt into GPT(model_config) raised {_short(exc)}") from None
    del state

    class Logits(torch.nn.Module):
        """forward(tokens) -> the logits: the model's output, or the first item of a tuple it returns."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, tokens):
            out = self.inner(tokens)
            return out[0] if isinstance(out, (tuple, list)) else out

    tokens = torch.zeros(1, EVAL_SEQ_LEN, dtype=torch.int64)
    try:
        with torch.no_grad():
            program = torch.export.export(Logits(model), (tokens,), strict=False)
    except BaseException as exc:
        raise _Refusal("torch.export.export could not capture GPT's forward as a graph of ATen operators "
                       f"(on a (1, {EVAL_SEQ_LEN}) int64 token input): {_short(exc)}") from None
    pairs = sorted([key, other] for key, others in aliases.items() for other in others)
    return _serialise(program, pairs)


def export_model(request):
    """The sandbox's entry point (see the module's docstring)."""
    op = request.get("op") if isinstance(request, dict) else None
    if op == "export":
        _TEXT.clear()
        try:
            text = _export(request["folder"], request["config"])
        except _Refusal as exc:
            return ["error", str(exc)]
        if len(text) > MAX_CHARS:
            return ["error", f"the exported graph takes {len(text)} characters, more than the {MAX_CHARS} the grader reads "
                             "(its lifted constants are too large)"]
        _TEXT.append(text)
        return ["exported", len(text), (len(text) + CHUNK_CHARS - 1) // CHUNK_CHARS]
    if op == "chunk" and _TEXT:
        index = request["index"]
        return _TEXT[0][index * CHUNK_CHARS:(index + 1) * CHUNK_CHARS]
    return ["error", f"unknown request {str(op)[:50]}"]
