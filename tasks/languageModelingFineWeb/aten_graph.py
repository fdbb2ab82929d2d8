"""The evaluator's reader and interpreter of an exported model graph (the JSON format of export_model.py).

Nothing here unpickles or imports anything of the agent's: the graph is JSON text the sandbox sent, checked
node by node before it runs. Only the operators of ALLOWED run, each a pure ATen overload (no in-place or
out= variants, no random numbers, no uninitialised memory, no reads of a tensor's values into Python, no
higher-order or custom operators); an argument is a reference to an earlier value, a number, a bool, None,
a short plain string, a list of those, or a dtype/layout/memory format/device (which becomes the
evaluator's own device). Parameters and buffers come from the evaluator's own load of model.pt
(weights_only), cast to the dtype the graph was captured with, shapes checked; small lifted constants
come with the graph as raw bytes. Every value an operator returns is checked against the shape the capture
recorded. Any refusal raises GraphError with a message for the agent.
"""
import base64
import json
import re

from export_model import FORMAT  # the format's one definition (stdlib imports only)

MAX_NODES = 200_000
MAX_CONSTANT_BYTES = 48 << 20  # all lifted constants together
MAX_ELEMENTS = 1 << 31  # the largest tensor a node may declare
SKIPPED = {"aten._assert_tensor_metadata.default"}  # checks of the capture's own, nothing to compute
# Pure ATen operators a GPT-like model needs: views and shapes, arithmetic, reductions, the usual layers.
ALLOWED = frozenset(
    "aten." + name
    for name in """
    embedding.default linear.default matmul.default mm.default bmm.default addmm.default baddbmm.default einsum.default
    outer.default layer_norm.default native_layer_norm.default rms_norm.default group_norm.default
    scaled_dot_product_attention.default softmax.int _softmax.default log_softmax.int _log_softmax.default
    gelu.default relu.default silu.default sigmoid.default tanh.default softplus.default glu.default mish.default
    elu.default leaky_relu.default hardtanh.default erf.default conv1d.default dropout.default
    add.Tensor add.Scalar sub.Tensor sub.Scalar rsub.Tensor rsub.Scalar mul.Tensor mul.Scalar div.Tensor div.Scalar
    div.Tensor_mode neg.default abs.default pow.Tensor_Scalar pow.Tensor_Tensor pow.Scalar sqrt.default rsqrt.default
    exp.default log.default log1p.default expm1.default sin.default cos.default reciprocal.default square.default
    sign.default floor.default ceil.default round.default trunc.default remainder.Scalar remainder.Tensor
    fmod.Scalar fmod.Tensor clamp.default clamp.Tensor clamp_min.default clamp_max.default maximum.default
    minimum.default lerp.Scalar lerp.Tensor addcmul.default addcdiv.default
    where.self where.ScalarOther where.ScalarSelf where.Scalar masked_fill.Scalar masked_fill.Tensor
    eq.Tensor eq.Scalar ne.Tensor ne.Scalar lt.Tensor lt.Scalar le.Tensor le.Scalar gt.Tensor gt.Scalar ge.Tensor
    ge.Scalar logical_and.default logical_or.default logical_not.default bitwise_and.Tensor bitwise_or.Tensor
    bitwise_not.default isfinite.default
    sum.default sum.dim_IntList mean.default mean.dim amax.default amin.default max.dim min.dim max.default
    min.default argmax.default argmin.default var.correction std.correction var_mean.correction prod.default
    prod.dim_int logsumexp.default cumsum.default linalg_vector_norm.default norm.ScalarOpt_dim topk.default
    sort.default
    view.default reshape.default _unsafe_view.default permute.default transpose.int t.default expand.default
    unsqueeze.default squeeze.dim squeeze.dims squeeze.default flatten.using_ints unflatten.int split.Tensor
    split_with_sizes.default chunk.default unbind.int cat.default stack.default slice.Tensor select.int
    narrow.default index.Tensor index_select.default gather.default clone.default contiguous.default alias.default
    detach.default repeat.default repeat_interleave.self_int roll.default flip.default movedim.int pad.default
    constant_pad_nd.default type_as.default to.dtype to.dtype_layout to.device _to_copy.default view_as.default
    expand_as.default lift_fresh_copy.default tril.default triu.default
    arange.default arange.start arange.start_step zeros.default ones.default full.default zeros_like.default
    ones_like.default full_like.default scalar_tensor.default eye.default
    """.split()
)
DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")
STRING = re.compile(r"[A-Za-z0-9_,.>\- ]{0,64}")


class GraphError(Exception):
    pass


def _dtype(name):
    import torch

    if name not in DTYPES:
        raise GraphError(f"the exported graph uses the dtype {str(name)[:40]!r}, which the grader does not run")
    return getattr(torch, name)


def _shape(value, where):
    if not isinstance(value, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
        raise GraphError(f"the exported graph's {where} has a malformed shape")
    count = 1
    for s in value:
        count *= s
    if count > MAX_ELEMENTS:
        raise GraphError(f"the exported graph's {where} declares a tensor of {count} elements, more than the grader allows")
    return tuple(value)


class Graph:
    """A checked graph: inputs, nodes, output; `run(tokens)` interprets it on the evaluator's device."""

    def __init__(self, text, device):
        import torch

        self.device = torch.device(device)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise GraphError(f"the exporter sent a graph that is not JSON ({type(exc).__name__})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise GraphError(f"the exporter sent a graph that is not in the grader's format {FORMAT}")
        inputs, nodes = data.get("inputs"), data.get("nodes")
        if not isinstance(inputs, list) or not isinstance(nodes, list) or len(inputs) + len(nodes) > MAX_NODES:
            raise GraphError(f"the exported graph must hold lists of inputs and nodes, at most {MAX_NODES} in all")
        self.names = set()
        self.inputs = [self._input(entry) for entry in inputs]
        if [i["kind"] for i in self.inputs].count("tokens") != 1:
            raise GraphError("the exported graph must take exactly one input, the tokens")
        self.nodes = [self._node(entry) for entry in nodes]
        self.output = self._argument(data.get("output"), "the output")
        if not (isinstance(self.output, tuple) and self.output[0] == "ref"):
            raise GraphError("the exported graph's output must be one tensor, the logits")
        self.aliases = {}
        aliases = data.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(k, str) for k in p) for p in aliases):
            raise GraphError("the exported graph's aliases are malformed")
        for key, other in aliases:
            self.aliases.setdefault(key, []).append(other)
        self.last_use = {}
        for index, node in enumerate(self.nodes):
            for ref in self._refs(node["args"]) + self._refs(node["kwargs"]):
                self.last_use[ref] = index
        self.input_names = {entry["name"] for entry in self.inputs}
        self.output_meta = next((n["out"] for n in self.nodes if n["name"] == self.output[1]), None)

    # -- checking -----------------------------------------------------------------------------------

    def _name(self, name, where):
        if not isinstance(name, str) or not name or len(name) > 200 or name in self.names:
            raise GraphError(f"the exported graph's {where} has a missing, long or repeated name")
        return name

    def _input(self, entry):
        import torch

        if not isinstance(entry, dict):
            raise GraphError("the exported graph has a malformed input")
        name = self._name(entry.get("name"), "input")
        self.names.add(name)
        kind = entry.get("kind")
        if kind not in ("parameter", "buffer", "constant", "tokens"):
            raise GraphError(f"the exported graph's input {name} is of a kind the grader does not accept ({str(kind)[:60]})")
        checked = {"name": name, "kind": kind, "shape": _shape(entry.get("shape"), f"input {name}"),
                   "dtype": _dtype(entry.get("dtype"))}
        if kind != "tokens":
            key = entry.get("key")
            if not isinstance(key, str) or not key:
                raise GraphError(f"the exported graph's input {name} names no state-dict key")
            checked["key"] = key
        if kind == "constant":
            data = entry.get("data")
            if not isinstance(data, str):
                raise GraphError(f"the exported graph's constant {name} holds no data")
            self.constant_bytes = getattr(self, "constant_bytes", 0) + len(data) * 3 // 4
            if self.constant_bytes > MAX_CONSTANT_BYTES:
                raise GraphError(f"the exported graph's constants take more than {MAX_CONSTANT_BYTES >> 20} MiB")
            try:
                raw = bytearray(base64.b64decode(data, validate=True))
            except ValueError:
                raise GraphError(f"the exported graph's constant {name} is not base64") from None
            size = checked["dtype"].itemsize
            count = 1
            for s in checked["shape"]:
                count *= s
            if len(raw) != count * size:
                raise GraphError(f"the exported graph's constant {name} holds {len(raw)} bytes, its shape needs {count * size}")
            tensor = torch.frombuffer(raw, dtype=checked["dtype"]) if raw else torch.empty(0, dtype=checked["dtype"])
            checked["value"] = tensor.reshape(checked["shape"]).to(self.device)
        return checked

    def _node(self, entry):
        if not isinstance(entry, dict):
            raise GraphError("the exported graph has a malformed node")
        name = self._name(entry.get("name"), "node")
        op = entry.get("op")
        if not isinstance(op, str):
            raise GraphError(f"the exported graph's node {name} names no operator")
        if op.startswith("unsupported:"):
            raise GraphError(f"the exported graph calls {op[len('unsupported:'):][:100]} (node {name}), which is not an ATen "
                             "operator; the grader runs pure ATen tensor operators only (no higher-order operators, "
                             "Python callbacks or submodules)")
        if op != "getitem" and op not in ALLOWED and op not in SKIPPED:
            why = " (it writes into a tensor in place)" if op.split(".")[1:2] and op.split(".")[1].endswith("_") else ""
            raise GraphError(f"the exported graph uses the operator {op[:100]} (node {name}){why}, which the grader does not "
                             "run: only pure ATen tensor operators are allowed (no in-place, random, custom or data-dependent "
                             "ones, nothing that reads tensor values into Python)")
        args, kwargs = entry.get("args"), entry.get("kwargs")
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise GraphError(f"the exported graph's node {name} has malformed arguments")
        node = {"name": name, "op": op, "args": [self._argument(a, f"node {name}") for a in args],
                "kwargs": {str(k): self._argument(v, f"node {name}") for k, v in kwargs.items()},
                "out": self._out(entry.get("out"), name)}
        self.names.add(name)  # after its arguments: a node refers to earlier values only
        if op == "getitem":
            if len(node["args"]) != 2 or not isinstance(node["args"][0], tuple) or node["args"][0][0] != "ref" \
                    or not isinstance(node["args"][1], int) or node["kwargs"]:
                raise GraphError(f"the exported graph's node {name} is a malformed getitem")
        elif op not in SKIPPED:
            import torch

            module, overload = op.split(".")[1], op.split(".")[2]
            node["function"] = getattr(getattr(torch.ops.aten, module), overload)
            if module == "dropout" and node["args"][2:3] != [False] and node["kwargs"].get("train") is not False:
                raise GraphError(f"the exported graph's node {name} applies dropout in training mode (random); export the model in eval mode")
            if module == "scaled_dot_product_attention":
                dropout = node["args"][4] if len(node["args"]) > 4 else node["kwargs"].get("dropout_p", 0.0)
                if dropout not in (0, 0.0):
                    raise GraphError(f"the exported graph's node {name} applies attention dropout {str(dropout)[:20]} (random); "
                                     "pass dropout_p=0.0 when the model is not training")
        return node

    def _out(self, value, name):
        if value is None:
            return None
        if isinstance(value, list):
            return [self._out(v, name) for v in value]
        if isinstance(value, dict) and set(value) == {"shape", "dtype"}:
            return (_shape(value["shape"], f"node {name}"), _dtype(value["dtype"]))
        raise GraphError(f"the exported graph's node {name} returns something other than tensors ({str(value)[:80]})")

    def _argument(self, value, where, depth=0):
        """The checked argument: ("ref", name), ("dtype" | "layout" | "memory_format" | "device", value), or plain data."""
        import torch

        if depth > 4:
            raise GraphError(f"the exported graph's {where} nests its arguments too deeply")
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            return value
        if isinstance(value, str):
            if not STRING.fullmatch(value):
                raise GraphError(f"the exported graph's {where} passes a string the grader does not accept ({value[:40]!r})")
            return value
        if isinstance(value, list):
            return [self._argument(v, where, depth + 1) for v in value]
        if isinstance(value, dict) and len(value) == 1:
            (kind, item), = value.items()
            if kind == "ref":
                if item not in self.names:
                    raise GraphError(f"the exported graph's {where} refers to {str(item)[:60]}, which is not an earlier value")
                return ("ref", item)
            if kind == "dtype":
                return ("const", _dtype(item))
            if kind == "layout" and item == "strided":
                return ("const", torch.strided)
            if kind == "memory_format" and item in ("contiguous_format", "preserve_format"):
                return ("const", getattr(torch, item))
            if kind == "device" and item in ("cpu", "cuda", "meta"):
                return ("const", self.device)
            if kind == "float" and item in ("inf", "-inf", "nan"):
                return float(item)
        raise GraphError(f"the exported graph's {where} passes an argument the grader does not accept ({str(value)[:80]})")

    @staticmethod
    def _refs(value):
        if isinstance(value, tuple) and value[0] == "ref":
            return [value[1]]
        if isinstance(value, list):
            return [r for v in value for r in Graph._refs(v)]
        if isinstance(value, dict):
            return [r for v in value.values() for r in Graph._refs(v)]
        return []

    # -- the weights ----------------------------------------------------------------------------------

    def bind(self, state):
        """Take the parameters and buffers from `state` (model.pt, loaded by the evaluator); fail on a missing
        key, a shape the graph was not captured with or a non-float tensor."""
        missing = []
        for entry in self.inputs:
            if entry["kind"] not in ("parameter", "buffer"):
                continue
            keys = [entry["key"], *self.aliases.get(entry["key"], [])]
            found = next((k for k in keys if k in state), None)
            if found is None:
                missing.append(entry["key"])
                continue
            tensor = state[found]
            if tuple(tensor.shape) != entry["shape"]:
                raise GraphError(f"model.pt does not match GPT(model_config): {found} is {tuple(tensor.shape)}, "
                                 f"expected {entry['shape']}")
            if tensor.dtype.is_floating_point != entry["dtype"].is_floating_point:
                raise GraphError(f"model.pt's {found} is {tensor.dtype}, the model holds {entry['dtype']}")
            entry["value"] = tensor.to(device=self.device, dtype=entry["dtype"])
        if missing:
            raise GraphError(f"model.pt does not match GPT(model_config): missing {sorted(missing)[:5]}")

    # -- running --------------------------------------------------------------------------------------

    def _resolve(self, value, values):
        if isinstance(value, tuple):
            return values[value[1]] if value[0] == "ref" else value[1]
        if isinstance(value, list):
            return [self._resolve(v, values) for v in value]
        return value

    def _check(self, name, value, expected, strict_dtype):
        import torch

        if expected is None:
            return
        if isinstance(expected, list):
            if not isinstance(value, (list, tuple)) or len(value) != len(expected):
                raise GraphError(f"node {name} of the exported graph returned {type(value).__name__}, not the "
                                 f"{len(expected)} tensors it was captured with")
            for v, e in zip(value, expected):
                self._check(name, v, e, strict_dtype)
            return
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != expected[0]:
            shown = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise GraphError(f"node {name} of the exported graph returned {shown}, it was captured with shape {expected[0]}")
        if strict_dtype and value.dtype != expected[1]:
            raise GraphError(f"node {name} of the exported graph returned {value.dtype}, it was captured with {expected[1]}")

    def run(self, tokens):
        """The logits of the graph for `tokens`, a (1, 1024) int64 tensor on the evaluator's device."""
        import torch

        strict_dtype = not torch.is_autocast_enabled(self.device.type)
        values = {}
        for entry in self.inputs:
            if entry["kind"] == "tokens":
                if tuple(tokens.shape) != entry["shape"]:
                    raise GraphError(f"the exported graph takes tokens of shape {entry['shape']}, not {tuple(tokens.shape)}")
                values[entry["name"]] = tokens
            else:
                values[entry["name"]] = entry["value"]
        last_use = self.last_use
        output = self.output[1]
        for index, node in enumerate(self.nodes):
            op = node["op"]
            if op in SKIPPED:
                continue
            args = self._resolve(node["args"], values)
            if op == "getitem":
                container, item = args
                if not isinstance(container, (list, tuple)) or not -len(container) <= item < len(container):
                    raise GraphError(f"node {node['name']} of the exported graph indexes something that is not a list of tensors")
                result = container[item]
            else:
                kwargs = {k: self._resolve(v, values) for k, v in node["kwargs"].items()}
                try:
                    result = node["function"](*args, **kwargs)
                except (RuntimeError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
                    text = " ".join(str(exc).split())[:300]
                    raise GraphError(f"node {node['name']} of the exported graph ({op}) failed: {type(exc).__name__}: {text}") from None
            self._check(node["name"], result, node["out"], strict_dtype)
            values[node["name"]] = result
            # Free what no later node needs (the logits excepted).
            for ref in self._refs(node["args"]) + self._refs(node["kwargs"]):
                if last_use.get(ref) == index and ref != output and ref in values and ref not in self.input_names:
                    del values[ref]
        return values[output]
