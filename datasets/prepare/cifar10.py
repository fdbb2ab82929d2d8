"""Fetch the real CIFAR-10 from Hugging Face (uoft-cs/cifar10) into the cifar10 dataset layout.

Usage, in the task image (torch.txt: datasets, Pillow) with network, from datasets/:
    python3 prepare/cifar10.py OUT_DIR PRIVATE_DIR
Download: about 145 MB of parquet files (PNG-encoded images), cached by `datasets` under HF_HOME.
Disk: about 185 MB written (train_images.npy 154 MB, test_images.npy 31 MB) plus the download cache.
Time: a minute or two, mostly decoding the 60,000 PNGs.
5,000 training images (a seeded choice) are held out as the validation split. OUT_DIR gets
train_images.npy (45000, 32, 32, 3) uint8 and train_labels.npy (45000,) uint8, the rest of the
training split, and test_images.npy (15000, 32, 32, 3) uint8: the 10,000 test images in the data
set's order, then the 5,000 validation images. PRIVATE_DIR gets answers.csv with the labels of all
15,000 and their split (test or validation). The fixture generator's hold_out_validation and
write_layout lay the files out, so the real data and the fixture share one layout.
Full-scale baseline (tasks/imageClassificationCifar10/baseline.py, 10 epochs of a two-conv CNN):
about a minute on one GPU, roughly half an hour on one CPU core.
"""
import importlib.util
import os
import sys

import numpy as np

HF_ID = "uoft-cs/cifar10"
COUNTS = {"train": 50_000, "test": 10_000}
VALIDATION = 5_000


def fixture_module():
    """fixtures/cifar10.py, loaded by path (its name is this script's name too)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "cifar10.py")
    spec = importlib.util.spec_from_file_location("cifar10_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_split(name):
    """All images of a split as uint8 (N, 32, 32, 3) and their labels, in the data set's order."""
    from datasets import load_dataset

    split = load_dataset(HF_ID, split=name)
    if len(split) != COUNTS[name]:
        sys.exit(f"{HF_ID} {name}: {len(split)} rows, expected {COUNTS[name]}")
    images, labels = [], []
    for row in split:
        images.append(np.asarray(row["img"].convert("RGB"), dtype=np.uint8))
        labels.append(row["label"])
    images, labels = np.stack(images), np.asarray(labels, dtype=np.int64)
    if labels.min() < 0 or labels.max() > 9:
        sys.exit(f"{HF_ID} {name}: labels outside 0-9")
    print(f"{name}: {images.shape}", file=sys.stderr)
    return images, labels


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python3 prepare/cifar10.py OUT_DIR PRIVATE_DIR")
    train_images, train_labels = load_split("train")
    test_images, test_labels = load_split("test")
    readme = (
        "CIFAR-10 (Krizhevsky, 2009, 'Learning Multiple Layers of Features from Tiny Images'), from Hugging Face\n"
        f"{HF_ID}. train_images.npy uint8 (45000, 32, 32, 3) and train_labels.npy uint8 (45000,): the training\n"
        "split less 5,000 images held out for validation. test_images.npy uint8 (15000, 32, 32, 3): the 10,000\n"
        "images of the test split, in its order, then the 5,000 validation images; no labels for either.\n"
        "Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.\n"
    )
    layout = fixture_module()
    train_images, train_labels, images, answers = layout.hold_out_validation(
        train_images, train_labels, test_images, test_labels, VALIDATION
    )
    layout.write_layout(sys.argv[1], sys.argv[2], train_images, train_labels, images, answers, readme)


if __name__ == "__main__":
    main()
