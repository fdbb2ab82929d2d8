"""The GPT family that languageModelingFineWeb grades, the token-shard reader and the loss the grader reports.

baseline.py imports this file to train; the grader imports the workspace's copy of this file in a
sandbox, builds GPT(GPTConfig(**model_config)), loads model.pt into it and captures forward(tokens)
with torch.export on a (1, 1024) int64 input, so edits to the architecture are graded: keep forward a
causal function of the tokens made of plain tensor operations, returning the logits. GPTConfig's
options cover the usual variants: learned or rotary positions, LayerNorm or RMSNorm, GELU, ReLU^2 or
SwiGLU MLPs, tied or separate output embeddings, QK normalisation and logit soft-capping.
Shards: a header of 256 int32 (magic 20240520, version 1, token count), then the GPT-2 token ids as uint16.
"""
import dataclasses
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MAGIC, VERSION, HEADER_INTS = 20240520, 1, 256
GPT2_VOCAB = 50257
EVAL_SEQ_LEN = 1024  # the grader scores windows of this many tokens
CHOICES = {"activation": ("gelu", "relu2", "swiglu"), "norm": ("layernorm", "rmsnorm"), "position": ("learned", "rotary")}


@dataclasses.dataclass
class GPTConfig:
    vocab_size: int = 50304  # GPT-2's 50,257 token ids, padded to a multiple of 64
    block_size: int = 1024  # the longest sequence the model takes; the grader needs >= 1024
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    mlp_hidden: int = 3072
    activation: str = "gelu"
    norm: str = "layernorm"
    position: str = "learned"
    tie_embeddings: bool = True
    bias: bool = False
    qk_norm: bool = False
    logit_softcap: float = 0.0  # > 0: logits = cap * tanh(logits / cap)
    rope_base: float = 10000.0

    @classmethod
    def from_dict(cls, values):
        """A config from a plain dict (what model_config.pt holds); ValueError says what is wrong."""
        if not isinstance(values, dict):
            raise ValueError(f"expected a dict of GPTConfig fields, got {type(values).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; GPTConfig has {sorted(fields)}")
        for name, value in values.items():
            kind = type(fields[name].default)
            ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            if not ok:
                raise ValueError(f"{name} must be {kind.__name__}, got {value!r}")
        config = cls(**values)
        config.check()
        return config

    def check(self):
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if min(self.vocab_size, self.block_size, self.n_layer, self.n_head, self.n_embd, self.mlp_hidden) < 1:
            raise ValueError("sizes must be positive")
        if self.n_embd % self.n_head or (self.position == "rotary" and (self.n_embd // self.n_head) % 2):
            raise ValueError("n_embd must split into n_head equal heads (of even size for rotary positions)")
        if not math.isfinite(self.logit_softcap) or self.logit_softcap < 0 or self.rope_base <= 0:
            raise ValueError("logit_softcap must be >= 0 and rope_base > 0")


def make_norm(config, size):
    if config.norm == "rmsnorm":
        return nn.RMSNorm(size)
    return nn.LayerNorm(size, bias=config.bias)


def rotate(x, cos, sin):
    """Rotary position embedding on the last dimension, as pairs (first half, second half)."""
    a, b = x.chunk(2, dim=-1)
    return torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head, self.qk_norm = config.n_head, config.qk_norm
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)

    def forward(self, x, rotary):
        batch, length, width = x.shape
        q, k, v = (t.view(batch, length, self.n_head, -1).transpose(1, 2) for t in self.qkv(x).split(width, dim=-1))
        if self.qk_norm:
            q, k = F.rms_norm(q, q.shape[-1:]), F.rms_norm(k, k.shape[-1:])
        if rotary is not None:
            q, k = rotate(q, *rotary), rotate(k, *rotary)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(batch, length, width))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.activation = config.activation
        widen = 2 if config.activation == "swiglu" else 1
        self.fc = nn.Linear(config.n_embd, widen * config.mlp_hidden, bias=config.bias)
        self.proj = nn.Linear(config.mlp_hidden, config.n_embd, bias=config.bias)

    def forward(self, x):
        h = self.fc(x)
        if self.activation == "swiglu":
            gate, value = h.chunk(2, dim=-1)
            h = F.silu(gate) * value
        elif self.activation == "relu2":
            h = F.relu(h).square()
        else:
            h = F.gelu(h)
        return self.proj(h)


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.norm1, self.attn = make_norm(config, config.n_embd), Attention(config)
        self.norm2, self.mlp = make_norm(config, config.n_embd), MLP(config)

    def forward(self, x, rotary):
        x = x + self.attn(self.norm1(x), rotary)
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    """A pre-norm decoder-only transformer; forward(tokens) returns next-token logits (batch, length, vocab)."""

    def __init__(self, config):
        super().__init__()
        config.check()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        if config.position == "learned":
            self.pos_embed = nn.Embedding(config.block_size, config.n_embd)
        else:
            half = config.n_embd // config.n_head // 2
            angles = torch.outer(torch.arange(config.block_size).float(),
                                 config.rope_base ** (-torch.arange(half).float() / half))
            # Derived from the config, so not part of the state dict.
            self.register_buffer("rope_cos", angles.cos(), persistent=False)
            self.register_buffer("rope_sin", angles.sin(), persistent=False)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.norm = make_norm(config, config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.head.weight = self.embed.weight
        self.apply(self._init)
        for block in self.blocks:  # residual branches start small so the stack begins near the identity
            for proj in (block.attn.proj, block.mlp.proj):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, tokens):
        length = tokens.shape[1]
        if length > self.config.block_size:
            raise ValueError(f"sequence of {length} tokens is longer than block_size {self.config.block_size}")
        x = self.embed(tokens)
        rotary = None
        if self.config.position == "learned":
            x = x + self.pos_embed(torch.arange(length, device=tokens.device))
        else:
            rotary = (self.rope_cos[:length].to(x.dtype), self.rope_sin[:length].to(x.dtype))
        for block in self.blocks:
            x = block(x, rotary)
        logits = self.head(self.norm(x))
        cap = self.config.logit_softcap
        return cap * torch.tanh(logits / cap) if cap > 0 else logits


def read_tokens(path):
    """The token ids of a shard as a uint16 array (memory-mapped); ValueError if the file is not a shard."""
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    if len(header) != HEADER_INTS or header[0] != MAGIC or header[1] != VERSION:
        raise ValueError(f"{path} is not a token shard (bad header)")
    count = int(header[2])
    tokens = np.memmap(path, dtype="<u2", mode="r", offset=HEADER_INTS * 4)
    if len(tokens) < count:
        raise ValueError(f"{path} holds {len(tokens)} tokens, its header says {count}")
    return tokens[:count]


@torch.no_grad()
def mean_loss(model, tokens, device, windows_per_batch=8, seq_len=EVAL_SEQ_LEN):
    """Mean next-token cross-entropy (nats) over consecutive windows of seq_len tokens: each window
    predicts its tokens 1..seq_len from the tokens before them in the window."""
    windows = (len(tokens) - 1) // seq_len
    total, count = 0.0, 0
    for start in range(0, windows, windows_per_batch):
        n = min(windows_per_batch, windows - start)
        chunk = torch.from_numpy(np.asarray(tokens[start * seq_len:(start + n) * seq_len + 1], dtype=np.int64))
        rows = torch.stack([chunk[i * seq_len:(i + 1) * seq_len + 1] for i in range(n)]).to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=torch.device(device).type == "cuda"):
            logits = model(rows[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction="sum")
        total += loss.item()
        count += rows[:, 1:].numel()
    return total / count
