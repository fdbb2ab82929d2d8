"""Baseline for MNLI: fine-tune BERT (data/mnli/bert-base-uncased) to classify premise/hypothesis pairs.

Trains a sequence-classification head and the encoder, prints the accuracy on
data/mnli/validation.jsonl, and writes the model and its tokenizer to bert_mnli_model/ with
save_pretrained, which is what the grader loads. Uses a GPU when there is one.
Usage: python3 baseline.py [SEED]   (default seed 0)
Full scale, MLGym's recipe: one epoch of shuffled batches of 32 pairs (12,271 steps), pairs truncated
to 128 tokens, AdamW at a constant learning rate of 1e-7 (no weight decay, eps 1e-6), fp16 autocast
with gradient scaling on a GPU. The tiny learning rate is MLGym's and explains its weak baseline.
MLGYM_DATA=fixture: the small generated data set and a tiny random BERT, which needs a real recipe:
150 steps at 1e-3 with linear warm-up and decay, weight decay 0.01 and clipping, on one CPU thread
with kernels that give the same bits on other machines (reproducible.py), so its score can be
recorded exactly.
"""
from reproducible import FIXTURE, reproducible  # first: on the fixture it pins kernels before torch loads

import json
import os
import random
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; the container has no network

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

DATA = "data/mnli"
BERT = f"{DATA}/bert-base-uncased"
OUT = "bert_mnli_model"
LABELS = ["entailment", "neutral", "contradiction"]
BATCH = 32
# steps (None: one epoch), learning rate, truncation, AdamW's weight decay and eps, warm-up share
# (None: a constant rate), gradient clipping norm (None: none).
RECIPE = (dict(steps=150, lr=1e-3, max_length=64, weight_decay=0.01, eps=1e-8, warmup=0.1, clip=1.0) if FIXTURE
          else dict(steps=None, lr=1e-7, max_length=128, weight_decay=0.0, eps=1e-6, warmup=None, clip=None))


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def encode(tokenizer, rows, device):
    batch = tokenizer([r["premise"] for r in rows], [r["hypothesis"] for r in rows], truncation=True,
                      max_length=RECIPE["max_length"], padding=True, return_tensors="pt")
    return {k: v.to(device) for k, v in batch.items()}


def batches(rows, rng):
    """Endless shuffled batches, a new order every epoch."""
    while True:
        order = list(range(len(rows)))
        rng.shuffle(order)
        for i in range(0, len(order) - BATCH + 1, BATCH):
            yield [rows[j] for j in order[i:i + BATCH]]


def schedule(steps):
    """The learning-rate multiplier by step: constant, or a linear warm-up and then a linear decay to zero."""
    if RECIPE["warmup"] is None:
        return lambda step: 1.0
    warmup = max(1, int(RECIPE["warmup"] * steps))
    return lambda step: step / warmup if step < warmup else max(0.0, (steps - step) / (steps - warmup))


def train(model, tokenizer, rows, device, seed):
    steps = RECIPE["steps"] or len(rows) // BATCH
    optimizer = torch.optim.AdamW(model.parameters(), lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"], eps=RECIPE["eps"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule(steps))
    scaler = torch.amp.GradScaler("cuda", enabled=device == "cuda")
    model.train()
    started = time.time()
    print(f"{len(rows)} training pairs, {steps} steps of {BATCH} on {device}")
    for step, rows_batch in zip(range(steps), batches(rows, random.Random(seed))):
        labels = torch.tensor([r["label"] for r in rows_batch], device=device)
        with torch.autocast("cuda", dtype=torch.float16, enabled=device == "cuda"):
            loss = model(**encode(tokenizer, rows_batch, device), labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if RECIPE["clip"] is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), RECIPE["clip"])
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.time() - started:.0f}s", flush=True)


@torch.no_grad()
def accuracy(model, tokenizer, rows, device):
    model.eval()
    correct = 0
    for i in range(0, len(rows), 128):
        chunk = rows[i:i + 128]
        predicted = model(**encode(tokenizer, chunk, device)).logits.argmax(-1).tolist()
        correct += sum(p == r["label"] for p, r in zip(predicted, chunk))
    return 100.0 * correct / len(rows)


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    reproducible(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_rows = read_jsonl(f"{DATA}/train.jsonl")
    tokenizer = AutoTokenizer.from_pretrained(BERT)
    model = AutoModelForSequenceClassification.from_pretrained(
        BERT, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    model.to(device)
    train(model, tokenizer, train_rows, device, seed)
    print(f"validation accuracy: {accuracy(model, tokenizer, read_jsonl(f'{DATA}/validation.jsonl'), device):.2f}%")
    model.save_pretrained(OUT)
    tokenizer.save_pretrained(OUT)
    print(f"wrote {OUT}/")


if __name__ == "__main__":
    main()
