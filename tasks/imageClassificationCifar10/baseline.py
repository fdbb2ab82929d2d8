"""Baseline for CIFAR-10, MLGym's recipe: a two-convolution CNN trained for 10 epochs with AdamW.

Pixels /255 (no normalisation, no augmentation); conv 3x3 to 32 channels, ReLU, max-pool 2; conv 3x3
to 64, ReLU, max-pool 2; one linear layer to the 10 classes. AdamW (lr 5e-5, weight decay 0.01 on the
weights, not the biases), batch 64, 500 warm-up steps then a linear decay to 0, gradients clipped to
norm 1, seed 42. MLGym's baseline keeps the epoch with the lowest loss on the test split; this one
never sees test labels and keeps the last epoch; with this decaying schedule the two normally coincide.
Writes submission.csv with one `label` per image of data/cifar10/test_images.npy, in order.
About a minute on a GPU, half an hour on one CPU core. The small smoke-test data
(MLGYM_DATA=fixture) make 160 steps in all, so there the warm-up is 20 steps and the learning rate 2e-3.
Usage: python3 baseline.py [SEED]   (default 42)
"""
import sys

from reproducible import FIXTURE, reproducible  # first: on the fixture it pins torch's kernels before torch loads

import numpy as np
import pandas as pd
import torch
from torch import nn

DATA = "data/cifar10"
EPOCHS, BATCH, WEIGHT_DECAY, MAX_GRAD_NORM = 10, 64, 0.01, 1.0
LR, WARMUP = (2e-3, 20) if FIXTURE else (5e-5, 500)


class SmallCNN(nn.Module):
    """conv(32) -> pool -> conv(64) -> pool -> linear: size x size images with `channels` channels to 10 class scores."""

    def __init__(self, channels, size):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(64 * (size // 4) ** 2, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def to_tensor(images):
    """uint8 (N, 32, 32, 3) -> float (N, 3, 32, 32) in [0, 1]."""
    return torch.from_numpy(images).float().div_(255).permute(0, 3, 1, 2).contiguous()


def warmup_then_linear(total):
    """The learning-rate factor at each step: 0 -> 1 over WARMUP steps, then down to 0 at the last step."""
    return lambda step: step / WARMUP if step < WARMUP else max(0.0, (total - step) / max(1, total - WARMUP))


def train(model, x, y, device):
    weights = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.AdamW([{"params": weights, "weight_decay": WEIGHT_DECAY}, {"params": biases, "weight_decay": 0.0}], lr=LR)
    steps_per_epoch = -(-len(x) // BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_linear(EPOCHS * steps_per_epoch))
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        model.train()
        order, total = torch.randperm(len(x)), 0.0
        for i in range(0, len(x), BATCH):
            batch = order[i:i + BATCH]
            loss = loss_fn(model(x[batch].to(device)), y[batch].to(device))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1}/{EPOCHS}: training loss {total / len(x):.4f}", flush=True)


def predict(model, x, device):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + 1024].to(device)).argmax(1).cpu() for i in range(0, len(x), 1024)])


def main():
    reproducible(int(sys.argv[1]) if len(sys.argv) > 1 else 42)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = to_tensor(np.load(f"{DATA}/train_images.npy"))
    y = torch.from_numpy(np.load(f"{DATA}/train_labels.npy").astype(np.int64))
    model = SmallCNN(channels=3, size=32).to(device)
    train(model, x, y, device)
    predictions = predict(model, to_tensor(np.load(f"{DATA}/test_images.npy")), device)
    pd.DataFrame({"label": predictions.numpy()}).to_csv("submission.csv", index=False)
    print(f"wrote submission.csv ({len(predictions)} rows)")


if __name__ == "__main__":
    main()
