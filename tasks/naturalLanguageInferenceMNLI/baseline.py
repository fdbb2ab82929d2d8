"""Baseline for MNLI: fine-tune BERT (data/mnli/bert-base-uncased) to classify premise/hypothesis pairs.

Trains a sequence-classification head and the encoder with AdamW and a linear warm-up/decay schedule,
prints the accuracy on data/mnli/validation.jsonl, and writes the model and its tokenizer to
bert_mnli_model/ with save_pretrained, which is what the grader loads. Uses a GPU when there is one.
Usage: python3 baseline.py [SEED]   (default seed 0)
MLGYM_DATA=fixture: the small generated data set and a tiny BERT, 150 steps on one CPU thread, with
kernels that give the same bits on every x86 CPU (see `reproducible`), so its score can be recorded exactly.
Full scale: 3,000 steps of 32 pairs (a quarter of an epoch), an estimated 10 minutes on one A100
(not measured).
"""
import json
import os
import random
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; the container has no network
FIXTURE = os.environ.get("MLGYM_DATA") == "fixture"
if FIXTURE:
    # Before torch loads: one thread, ATen's portable kernels (no AVX2/AVX-512 variants chosen by the
    # CPU) and MKL's CPU-independent code path, so another machine computes the same numbers.
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                      ATEN_CPU_CAPABILITY="default", MKL_CBWR="COMPATIBLE")

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

DATA = "data/mnli"
BERT = f"{DATA}/bert-base-uncased"
OUT = "bert_mnli_model"
LABELS = ["entailment", "neutral", "contradiction"]
# The fixture's BERT has random weights, so it needs a much larger learning rate than fine-tuning.
STEPS, BATCH, LR, MAX_LENGTH = (150, 32, 1e-3, 64) if FIXTURE else (3000, 32, 2e-5, 128)
WARMUP = 0.1


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def encode(tokenizer, rows, device):
    batch = tokenizer([r["premise"] for r in rows], [r["hypothesis"] for r in rows], truncation=True,
                      max_length=MAX_LENGTH, padding=True, return_tensors="pt")
    return {k: v.to(device) for k, v in batch.items()}


def batches(rows, rng):
    """Endless shuffled batches, a new order every epoch."""
    while True:
        order = list(range(len(rows)))
        rng.shuffle(order)
        for i in range(0, len(order) - BATCH + 1, BATCH):
            yield [rows[j] for j in order[i:i + BATCH]]


def schedule(step):
    """Linear warm-up over the first WARMUP of the steps, then linear decay to zero."""
    warmup = max(1, int(WARMUP * STEPS))
    return step / warmup if step < warmup else max(0.0, (STEPS - step) / (STEPS - warmup))


def train(model, tokenizer, rows, device, seed):
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    started = time.time()
    for step, rows_batch in zip(range(STEPS), batches(rows, random.Random(seed))):
        labels = torch.tensor([r["label"] for r in rows_batch], device=device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = model(**encode(tokenizer, rows_batch, device), labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 100 == 0 or step == STEPS - 1:
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


def reproducible(seed):
    """Seed every generator; on the fixture on a CPU also pin threads and kernels (GPU runs keep their fast ones)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if FIXTURE and not torch.cuda.is_available():  # the fixture's recorded score is a CPU run's
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        torch.backends.mkldnn.enabled = False  # oneDNN picks its kernels by CPU
        torch.backends.nnpack.set_flags(False)  # so does NNPACK


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    reproducible(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_rows = read_jsonl(f"{DATA}/train.jsonl")
    tokenizer = AutoTokenizer.from_pretrained(BERT)
    model = AutoModelForSequenceClassification.from_pretrained(
        BERT, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    model.to(device)
    print(f"{len(train_rows)} training pairs, {STEPS} steps of {BATCH} on {device}")
    train(model, tokenizer, train_rows, device, seed)
    print(f"validation accuracy: {accuracy(model, tokenizer, read_jsonl(f'{DATA}/validation.jsonl'), device):.2f}%")
    model.save_pretrained(OUT)
    tokenizer.save_pretrained(OUT)
    print(f"wrote {OUT}/")


if __name__ == "__main__":
    main()
