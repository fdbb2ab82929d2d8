"""Baseline for languageModelingFineWeb: train a GPT (model.py) on the FineWeb GPT-2 token shards.

Full scale: 12 layers, 768 wide, 12 heads (124M parameters), 500 iterations of 512 sequences of 1024
tokens (262M tokens), AdamW with warm-up and linear decay, bf16 on GPU. With several GPUs it runs one
process per GPU (data parallel), by itself or under torchrun (`torchrun --nproc_per_node=2
--master_addr=127.0.0.1 --master_port=29500 baseline.py`; --standalone needs a host name the
network-less container cannot resolve); an estimated 15 minutes on two A100s (not measured).
Writes model.pt (the state dict) and model_config.pt (a plain dict of GPTConfig fields), which the
grader loads, then prints the loss on data/fineweb/fineweb_val_000000.bin.
Usage: python3 baseline.py [SEED]   (default seed 0)
MLGYM_DATA=fixture: the small generated shards, a 2-layer model and 15 iterations on one CPU thread, with
kernels that give the same bits on other machines (reproducible.py), so its score can be recorded exactly.
"""
from reproducible import FIXTURE, reproducible  # first: on the fixture it pins kernels before torch loads

import dataclasses
import glob
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from model import GPT, GPTConfig, mean_loss, read_tokens

DATA = "data/fineweb"
if FIXTURE:
    CONFIG = GPTConfig(n_layer=2, n_head=2, n_embd=64, mlp_hidden=256)
    ITERATIONS, BATCH, MICRO_BATCH, LR, WARMUP = 15, 1, 1, 5e-3, 5
else:
    CONFIG = GPTConfig()  # 12 layers, 768 wide, 12 heads, 1024 tokens
    ITERATIONS, BATCH, MICRO_BATCH, LR, WARMUP = 500, 512, 16, 1.5e-3, 50
SEQ_LEN = 1024


class Batches:
    """Consecutive windows of SEQ_LEN + 1 tokens from the training shards in order, split between processes."""

    def __init__(self, rank, world):
        self.files = sorted(glob.glob(f"{DATA}/fineweb_train_*.bin"))
        if not self.files:
            raise SystemExit(f"no training shards in {DATA}/")
        self.rank, self.world = rank, world
        self.shard, self.tokens, self.position = -1, None, 0
        self.next_shard()

    def next_shard(self):
        self.shard = (self.shard + 1) % len(self.files)
        self.tokens, self.position = read_tokens(self.files[self.shard]), 0

    def next(self, rows, device):
        span = rows * SEQ_LEN
        if self.position + self.world * span + 1 > len(self.tokens):
            self.next_shard()
        start = self.position + self.rank * span
        chunk = torch.from_numpy(np.asarray(self.tokens[start:start + span + 1], dtype=np.int64))
        self.position += self.world * span
        x, y = chunk[:-1].view(rows, SEQ_LEN), chunk[1:].view(rows, SEQ_LEN)
        return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def learning_rate(step):
    """Linear warm-up, then linear decay to a tenth of LR."""
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    return LR * (1 - 0.9 * (step - WARMUP) / max(1, ITERATIONS - WARMUP))


def optimizer_for(model):
    """AdamW; weight decay only on matrices (not on norms, biases and embeddings)."""
    decay = [p for n, p in model.named_parameters() if p.ndim == 2 and "embed" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim == 2 and "embed" not in n)]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.95), fused=torch.cuda.is_available())


def train(rank, world, local_rank):
    device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    if world > 1:
        torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl", rank=rank, world_size=world)
    reproducible(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    model = GPT(CONFIG).to(device)
    optimizer = optimizer_for(model)
    wrapped = torch.compile(model) if device.startswith("cuda") else model
    if world > 1:
        wrapped = DistributedDataParallel(wrapped, device_ids=[local_rank])
    accumulation = max(1, BATCH // (MICRO_BATCH * world))
    batches = Batches(rank, world)
    if rank == 0:
        params = sum(p.numel() for p in model.parameters())
        print(f"{params / 1e6:.1f}M parameters, {ITERATIONS} iterations of {MICRO_BATCH * accumulation * world} "
              f"sequences on {world} x {device.split(':')[0]}", flush=True)
    started = time.time()
    for step in range(ITERATIONS):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step)
        for micro in range(accumulation):
            x, y = batches.next(MICRO_BATCH, device)
            # DDP averages gradients only on the last micro-batch of the step.
            if world > 1:
                wrapped.require_backward_grad_sync = micro == accumulation - 1
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
                logits = wrapped(x)
            loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.view(-1))
            (loss / accumulation).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if rank == 0 and (step % 10 == 0 or step == ITERATIONS - 1):
            print(f"step {step:4d}  loss {loss.item():.4f}  {time.time() - started:.0f}s", flush=True)
    if rank == 0:
        torch.save(model.state_dict(), "model.pt")
        torch.save(dataclasses.asdict(CONFIG), "model_config.pt")
        print("wrote model.pt and model_config.pt", flush=True)
        model.eval()
        loss = mean_loss(model, read_tokens(f"{DATA}/fineweb_val_000000.bin"), device)
        print(f"validation loss: {loss:.4f} (perplexity {math.exp(loss):.1f})")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def spawned(rank, world):
    """torch.multiprocessing.spawn's entry point: one process per GPU on this machine."""
    train(rank, world, rank)


def main():
    if "RANK" in os.environ:  # started by torchrun
        train(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    elif torch.cuda.device_count() > 1:
        gpus = torch.cuda.device_count()
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        torch.multiprocessing.spawn(spawned, args=(gpus,), nprocs=gpus)
    else:
        train(0, 1, 0)


if __name__ == "__main__":
    main()
