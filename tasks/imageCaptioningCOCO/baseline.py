"""Baseline for COCO captioning: a small CNN encoder and an LSTM decoder, greedy decoding.

Reads data/coco/ (train_images.npy, train_captions.csv, test_images.npy), trains for a few epochs
(each epoch shows every training image once, with one of its captions picked at random), reports
the loss on 5% held-out training images, and writes submission.csv with one `caption` per test
image, in the order of test_images.npy. Uses the GPU when there is one: about 10 minutes there on
the full data. With MLGYM_DATA=fixture (the small smoke-test data) it trains briefly on a CPU, pinned
to one thread and to kernels that give the same bits on other machines (reproducible.py), so its
score can be recorded exactly.
Usage: python3 baseline.py [SEED]   (default 0)
"""
import re
import sys
from collections import Counter

from reproducible import FIXTURE, reproducible  # first: on the fixture it pins torch's kernels before torch loads

import numpy as np
import pandas as pd
import torch
from torch import nn

DATA = "data/coco"
EPOCHS = 10
MIN_COUNT = 1 if FIXTURE else 5  # rarer words become <unk>
BATCH = 32 if FIXTURE else 128
MAX_WORDS = 20
HOLDOUT = 0.05
PAD, BOS, EOS, UNK = 0, 1, 2, 3


def words(caption):
    """Lower-cased runs of letters and digits: the grader compares captions the same way."""
    return re.findall(r"[a-z0-9]+", str(caption).lower())


def build_vocabulary(captions):
    counts = Counter(w for c in captions for w in words(c))
    kept = sorted(w for w, n in counts.items() if n >= MIN_COUNT)
    return ["<pad>", "<bos>", "<eos>", "<unk>"] + kept


def encode(caption, index):
    ids = [index.get(w, UNK) for w in words(caption)][:MAX_WORDS]
    return [BOS] + ids + [EOS] + [PAD] * (MAX_WORDS - len(ids))


class Captioner(nn.Module):
    """CNN image features start the LSTM's state and join every input word."""

    def __init__(self, vocabulary_size, feature=256, embed=128, hidden=256):
        super().__init__()
        layers, channels = [], 3
        for width in (32, 64, 128, feature):  # 64x64 -> 4x4
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            channels = width
        self.encoder = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.start = nn.Linear(feature, 2 * hidden)
        self.embed = nn.Embedding(vocabulary_size, embed, padding_idx=PAD)
        self.lstm = nn.LSTM(embed + feature, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocabulary_size)

    def begin(self, images):
        feature = self.encoder(images)
        h, c = torch.tanh(self.start(feature)).chunk(2, dim=1)
        return feature, (h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous())

    def step(self, feature, tokens, state):
        inputs = torch.cat([self.embed(tokens), feature.unsqueeze(1).expand(-1, tokens.shape[1], -1)], dim=2)
        output, state = self.lstm(inputs, state)
        return self.out(output), state

    def forward(self, images, tokens):
        feature, state = self.begin(images)
        return self.step(feature, tokens, state)[0]

    @torch.no_grad()
    def greedy(self, images):
        feature, state = self.begin(images)
        token = torch.full((len(images), 1), BOS, dtype=torch.long, device=images.device)
        steps = []
        for _ in range(MAX_WORDS + 1):
            logits, state = self.step(feature, token, state)
            token = logits[:, -1].argmax(dim=1, keepdim=True)
            steps.append(token)
        return torch.cat(steps, dim=1).tolist()


def as_input(images, device):
    """uint8 (N, 64, 64, 3) numpy -> float (N, 3, 64, 64) in [-1, 1] on the device."""
    return torch.from_numpy(np.array(images)).to(device).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def batch_loss(model, images, tokens, device, loss_fn):
    tokens = tokens.to(device)
    logits = model(as_input(images, device), tokens[:, :-1])
    return loss_fn(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


@torch.no_grad()
def holdout_loss(model, images, holdout, tokens, device, loss_fn, chunk=512):
    model.eval()
    losses = [
        batch_loss(model, images[holdout[i:i + chunk]], tokens[i:i + chunk], device, loss_fn).item()
        for i in range(0, len(holdout), chunk)
    ]
    return float(np.mean(losses))


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    reproducible(seed)
    rng = np.random.default_rng(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    images = np.load(f"{DATA}/train_images.npy", mmap_mode="r")
    table = pd.read_csv(f"{DATA}/train_captions.csv", keep_default_na=False)
    vocabulary = build_vocabulary(table["caption"])
    index = {w: i for i, w in enumerate(vocabulary)}
    tokens = torch.tensor([encode(c, index) for c in table["caption"]])
    rows_of = table.groupby("image").indices  # image -> its rows in the caption table
    print(f"{len(images)} training images, {len(table)} captions, {len(vocabulary)} words", flush=True)

    order = rng.permutation(sorted(rows_of))
    cut = int(len(order) * (1 - HOLDOUT))
    train, holdout = order[:cut], np.sort(order[cut:])
    holdout_rows = np.array([rows_of[i][0] for i in holdout])

    model = Captioner(len(vocabulary)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    for epoch in range(EPOCHS):
        model.train()
        rng.shuffle(train)
        for i in range(0, len(train), BATCH):
            batch = np.sort(train[i:i + BATCH])  # sorted reads are faster from a memory map
            rows = [rng.choice(rows_of[b]) for b in batch]
            optimizer.zero_grad()
            loss = batch_loss(model, images[batch], tokens[rows], device, loss_fn)
            loss.backward()
            optimizer.step()
        held = holdout_loss(model, images, holdout, tokens[holdout_rows], device, loss_fn)
        print(f"epoch {epoch + 1}/{EPOCHS}: train loss {loss.item():.3f}, held-out loss {held:.3f}", flush=True)

    test_images = np.load(f"{DATA}/test_images.npy", mmap_mode="r")
    model.eval()
    captions = []
    for i in range(0, len(test_images), 256):
        for ids in model.greedy(as_input(test_images[i:i + 256], device)):
            ids = ids[:ids.index(EOS)] if EOS in ids else ids
            captions.append(" ".join(vocabulary[t] for t in ids if t > UNK))
    pd.DataFrame({"caption": captions}).to_csv("submission.csv", index=False)
    print(f"wrote submission.csv ({len(captions)} rows); first: {captions[0]!r}")


if __name__ == "__main__":
    main()
