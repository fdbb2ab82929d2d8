"""Fetch the real COCO captions (2014 images, Karpathy splits) from Hugging Face into the coco layout.

Usage, in the task image (torch.txt: huggingface_hub, Pillow) with network, from datasets/:
    python3 prepare/coco.py OUT_DIR PRIVATE_DIR
Source: Hugging Face undefined443/coco-karpathy-wds, COCO-2014 in WebDataset shards of 1,000
samples ({key}.jpg, {key}.json with "captions", about five per image, and "cocoid"); its `train`
split (113,287 images: Karpathy's train + restval) becomes the training set and its `test` split
(5,000 images: Karpathy's test) the test set; Karpathy's `val` is not used.
Download: about 18 GB of tar shards, fetched one per worker at a time and deleted once converted.
Disk: about 1.5 GB written (train_images.npy 1.39 GB, test_images.npy 61 MB, captions 35 MB) plus
the shards in flight (~170 MB each). Memory: about 3 GB. Time: the download, plus 5-10 minutes
of JPEG decoding per CPU core (shards are converted in parallel).
Every image is resized, aspect ratio not kept, to 64x64 RGB. OUT_DIR gets train_images.npy
(113287, 64, 64, 3) uint8, train_captions.csv (image,caption) and test_images.npy (5000, 64, 64, 3);
PRIVATE_DIR gets answers.csv (image,split,caption): the test references, 2,500 images in the
validation split and 2,500 in the test split. The files are written by the fixture generator's
write_layout, so the real data and the fixture share one layout.
Full-scale baseline (tasks/imageCaptioningCOCO/baseline.py, 10 epochs): about 10 minutes on one GPU.
"""
import importlib.util
import io
import json
import os
import sys
import tarfile
import tempfile
from multiprocessing import Pool

import numpy as np

HF_ID = "undefined443/coco-karpathy-wds"
COUNTS = {"train": 113_287, "test": 5_000}
SIZE = 64


def fixture_module():
    """fixtures/coco.py, loaded by path (its name is this script's name too)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "coco.py")
    spec = importlib.util.spec_from_file_location("coco_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shards(split):
    from huggingface_hub import HfApi

    files = HfApi().list_repo_files(HF_ID, repo_type="dataset")
    found = sorted(f for f in files if f.startswith(f"{split}/") and f.endswith(".tar"))
    if not found:
        sys.exit(f"{HF_ID}: no {split}/*.tar shards")
    return found


def small_image(data):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as picture:
        picture.draft("RGB", (2 * SIZE, 2 * SIZE))  # JPEG decoding at reduced scale: much faster
        picture = picture.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BICUBIC)
        return np.asarray(picture, dtype=np.uint8)


def convert_shard(name):
    """(images (n, SIZE, SIZE, 3) uint8, [captions per image]) of one shard, in the shard's order."""
    from huggingface_hub import hf_hub_download

    with tempfile.TemporaryDirectory() as tmp:
        path = hf_hub_download(HF_ID, name, repo_type="dataset", local_dir=tmp)
        samples = {}  # key -> {extension: bytes}, in the order of the archive
        with tarfile.open(path) as archive:
            for member in archive:
                if member.isfile():
                    key, _, extension = member.name.partition(".")
                    samples.setdefault(key, {})[extension.lower()] = archive.extractfile(member).read()
    images, captions = [], []
    for key, parts in samples.items():
        picture = parts.get("jpg") or parts.get("jpeg") or parts.get("png")
        if picture is None or "json" not in parts:
            sys.exit(f"{name}: sample {key} lacks an image or its json")
        references = [c for c in json.loads(parts["json"])["captions"] if c.strip()]
        if not references:
            sys.exit(f"{name}: sample {key} has no caption")
        images.append(small_image(picture))
        captions.append(references)
    return np.stack(images), captions


def load_split(split, pool):
    images, captions = [], []
    for shard_images, shard_captions in pool.imap(convert_shard, shards(split)):
        images.append(shard_images)
        captions.extend(shard_captions)
        print(f"{split}: {len(captions)} images", file=sys.stderr, flush=True)
    if len(captions) != COUNTS[split]:
        sys.exit(f"{HF_ID} {split}: {len(captions)} images, expected {COUNTS[split]}")
    return np.concatenate(images), captions


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python3 prepare/coco.py OUT_DIR PRIVATE_DIR")
    with Pool(os.cpu_count()) as pool:
        train_images, train_captions = load_split("train", pool)
        test_images, test_captions = load_split("test", pool)
    readme = (
        "MS-COCO 2014 captions (Lin et al., 2014; Chen et al., 2015), Karpathy & Fei-Fei (2015) splits, from Hugging\n"
        f"Face {HF_ID}. Annotations: COCO Consortium, CC BY 4.0; images: Flickr Terms of Use.\n"
        "train_images.npy uint8 (113287, 64, 64, 3): train + restval, every image resized to 64x64 (aspect ratio\n"
        "not kept); train_captions.csv: image (row in train_images.npy), caption (raw text, about 5 per image);\n"
        "test_images.npy uint8 (5000, 64, 64, 3): Karpathy's test images. The test captions are not included.\n"
    )
    fixture_module().write_layout(
        sys.argv[1], sys.argv[2], train_images, train_captions, test_images, test_captions, readme
    )


if __name__ == "__main__":
    main()
