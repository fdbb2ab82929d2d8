"""Baseline for CIFAR-10: a small CNN (two convolution layers) trained with Adam for 10 epochs.

Reads data/cifar10/*.npy, holds out 10% of the training images to report accuracy, and writes
submission.csv with one `label` per test image, in the order of test_images.npy.
Uses the GPU when there is one: about a minute there on the full data, ~10 minutes on one CPU core.
The small smoke-test data (MLGYM_DATA=fixture) need no smaller budget: the same run takes ~30 s on a CPU,
pinned to one thread and to kernels that give the same bits on every x86 CPU (see `reproducible`), so
its score can be recorded exactly.
Usage: python3 baseline.py [SEED]   (default 0)
"""
import os
import random
import sys

FIXTURE = os.environ.get("MLGYM_DATA") == "fixture"
if FIXTURE:
    # Before torch loads: one thread, ATen's portable kernels (no AVX2/AVX-512 variants chosen by the
    # CPU) and MKL's CPU-independent code path, so another machine computes the same numbers.
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                      ATEN_CPU_CAPABILITY="default", MKL_CBWR="COMPATIBLE")

import numpy as np
import pandas as pd
import torch
from torch import nn

DATA = "data/cifar10"
EPOCHS = 10
BATCH = 64
HOLDOUT = 0.1


class SmallCNN(nn.Module):
    """conv(32) -> pool -> conv(64) -> pool -> linear: 32x32x3 images to 10 class scores."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def to_tensor(images, mean, std):
    """uint8 (N, H, W, C) -> normalised float (N, C, H, W)."""
    x = torch.from_numpy(images).float().div_(255).permute(0, 3, 1, 2)
    return (x - mean) / std


def predict(model, x, device):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + 1024].to(device)).argmax(1).cpu() for i in range(0, len(x), 1024)])


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
    images = np.load(f"{DATA}/train_images.npy")
    labels = torch.from_numpy(np.load(f"{DATA}/train_labels.npy").astype(np.int64))
    test_images = np.load(f"{DATA}/test_images.npy")

    mean = torch.tensor(images.mean(axis=(0, 1, 2)) / 255, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(images.std(axis=(0, 1, 2)) / 255, dtype=torch.float32).view(1, 3, 1, 1)
    x = to_tensor(images, mean, std)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    cut = int(len(x) * (1 - HOLDOUT))
    train, holdout = order[:cut], order[cut:]

    model = SmallCNN().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        model.train()
        shuffled = train[torch.randperm(len(train))]
        for i in range(0, len(shuffled), BATCH):
            batch = shuffled[i:i + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch].to(device)), labels[batch].to(device))
            loss.backward()
            optimizer.step()
        accuracy = (predict(model, x[holdout], device) == labels[holdout]).float().mean().item()
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {loss.item():.3f}, held-out accuracy {accuracy:.4f}", flush=True)

    predictions = predict(model, to_tensor(test_images, mean, std), device)
    pd.DataFrame({"label": predictions.numpy()}).to_csv("submission.csv", index=False)
    print(f"wrote submission.csv ({len(predictions)} rows)")


if __name__ == "__main__":
    main()
