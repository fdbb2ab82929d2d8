"""Prepare the real FineWeb data: GPT-2 token shards of FineWeb-10B from Hugging Face, in the fixture's layout.

Usage: python3 prepare/fineweb.py OUT_DIR PRIVATE_DIR [TRAIN_SHARDS]   (in the task image, with network)
Source: the dataset kjj0/fineweb10B-gpt2 (modded-nanoGPT's tokenised FineWeb sample: 103 training
shards fineweb_train_000001.bin ... of about 100M tokens, 200 MB each, and fineweb_val_000000.bin of
100M tokens). Downloads the validation shard and TRAIN_SHARDS training shards (default 8: 800M tokens,
three times what the baseline reads): about 1.8 GB, the same on disk, a few minutes.
Writes OUT_DIR/fineweb_train_*.bin (as downloaded), OUT_DIR/fineweb_val_000000.bin (the first
10,485,761 tokens of the validation shard: 10,485,760 predicted tokens, MLGym's validation set) and
README.txt; PRIVATE_DIR/fineweb_val_000000.bin (the same) and PRIVATE_DIR/fineweb_test_000000.bin
(the next 10,485,761 tokens, hidden from the agent). Each shard: 256 int32 (magic 20240520, version 1,
token count), then uint16 tokens.
Full-scale baseline: 124M-parameter GPT, 500 iterations of 524,288 tokens; an estimated 15 minutes on
two A100s, twice that on one (MLGym gives the task 2 GPUs and 2,400 s per command).
"""
import os
import shutil
import sys
import tempfile

import numpy as np
from huggingface_hub import hf_hub_download

REPO = "kjj0/fineweb10B-gpt2"
EVAL_TOKENS = 10_485_760 + 1  # 10,240 windows of 1,024 predicted tokens, plus the last target
MAGIC, VERSION, HEADER_INTS = 20240520, 1, 256


def read_shard(path):
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    if len(header) != HEADER_INTS or header[0] != MAGIC or header[1] != VERSION:
        sys.exit(f"{path}: not a token shard (header {header[:3].tolist()})")
    tokens = np.memmap(path, dtype="<u2", mode="r", offset=HEADER_INTS * 4)
    if len(tokens) < header[2]:
        sys.exit(f"{path}: {len(tokens)} tokens, the header says {header[2]}")
    return tokens[:header[2]]


def write_shard(path, tokens):
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[:3] = MAGIC, VERSION, len(tokens)
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(np.asarray(tokens, dtype="<u2").tobytes())


def download(name, folder):
    path = hf_hub_download(REPO, name, repo_type="dataset", local_dir=folder)
    shutil.rmtree(os.path.join(folder, ".cache"), ignore_errors=True)  # the Hub's download bookkeeping
    return path


def write_readme(out_dir, shards):
    with open(os.path.join(out_dir, "README.txt"), "w") as f:
        f.write(
            f"FineWeb (HuggingFaceFW/fineweb, ODC-By 1.0) tokenised with GPT-2's tokenizer, from {REPO}.\n"
            f"fineweb_train_000001.bin .. fineweb_train_{shards:06d}.bin (about 100M tokens each) and\n"
            f"fineweb_val_000000.bin ({EVAL_TOKENS} tokens: the first part of the FineWeb validation shard).\n"
            "Documents start with the end-of-text token 50256. Format: 256 int32 header (magic 20240520,\n"
            "version 1, token count), then the tokens as uint16.\n"
        )


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python3 prepare/fineweb.py OUT_DIR PRIVATE_DIR [TRAIN_SHARDS]")
    out_dir, private_dir = sys.argv[1:3]
    shards = int(sys.argv[3]) if len(sys.argv) == 4 else 8
    if not 1 <= shards <= 103:
        sys.exit("TRAIN_SHARDS must be between 1 and 103")
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(private_dir, exist_ok=True)

    with tempfile.TemporaryDirectory(dir=private_dir) as scratch:
        tokens = read_shard(download("fineweb_val_000000.bin", scratch))
        if len(tokens) < 2 * EVAL_TOKENS:
            sys.exit(f"the validation shard has {len(tokens)} tokens, fewer than {2 * EVAL_TOKENS}")
        validation, test = tokens[:EVAL_TOKENS], tokens[EVAL_TOKENS:2 * EVAL_TOKENS]
        write_shard(os.path.join(out_dir, "fineweb_val_000000.bin"), validation)
        write_shard(os.path.join(private_dir, "fineweb_val_000000.bin"), validation)
        write_shard(os.path.join(private_dir, "fineweb_test_000000.bin"), test)
        del tokens, validation, test  # release the memory map before the folder goes

    for i in range(1, shards + 1):
        path = download(f"fineweb_train_{i:06d}.bin", out_dir)
        print(f"{os.path.basename(path)}: {len(read_shard(path)):,} tokens", flush=True)
    write_readme(out_dir, shards)
    print(f"wrote {out_dir} ({shards} training shards, validation) and {private_dir} (validation, test)")


if __name__ == "__main__":
    main()
