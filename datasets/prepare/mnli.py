"""Prepare the real MNLI data: MultiNLI and bert-base-uncased from Hugging Face, in the fixture's layout.

Usage: python3 prepare/mnli.py OUT_DIR PRIVATE_DIR   (in the task image, with network access)
Downloads nyu-mll/multi_nli (about 220 MB) and google-bert/bert-base-uncased (config, vocabulary,
tokenizer and model.safetensors, about 440 MB): the containers have no network, so the baseline
loads BERT from OUT_DIR/bert-base-uncased/. Needs about 1.5 GB of disk (the Hugging Face cache
included) and a few minutes. Writes OUT_DIR/train.jsonl (392,702 pairs), OUT_DIR/validation.jsonl
(validation_mismatched: 9,832 labelled pairs), OUT_DIR/bert-base-uncased/ and README.txt;
PRIVATE_DIR/validation.jsonl (the same pairs), PRIVATE_DIR/test.jsonl (all 9,815 pairs of
validation_matched, the set MLGym's evaluation scores, hidden from the agent) and
PRIVATE_DIR/bert_tokenizer/ (the grader's copy of the tokenizer).
The validation split the agent sees and validates on is validation_mismatched: MNLI's other
evaluation set (genres absent from train), so the whole of validation_matched stays for the test.
"""
import json
import os
import shutil
import sys

from datasets import load_dataset
from huggingface_hub import snapshot_download

DATASET = "nyu-mll/multi_nli"
BERT = "google-bert/bert-base-uncased"
BERT_FILES = ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "model.safetensors"]
TOKENIZER_FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json"]
EXPECTED = {"train": 392_702, "validation_matched": 9_815, "validation_mismatched": 9_832}


def rows(split):
    """The split's pairs as premise, hypothesis, genre and label (0 entailment, 1 neutral, 2 contradiction)."""
    return [{"premise": r["premise"], "hypothesis": r["hypothesis"], "genre": r["genre"], "label": int(r["label"])}
            for r in split if r["label"] in (0, 1, 2)]


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_readme(out_dir, counts):
    with open(os.path.join(out_dir, "README.txt"), "w") as f:
        f.write(
            f"MultiNLI (Williams, Nangia and Bowman 2018; Hugging Face {DATASET}), for naturalLanguageInferenceMNLI.\n"
            f"train.jsonl ({counts['train']} pairs) and validation.jsonl ({counts['validation']} pairs: validation_mismatched,\n"
            "whose genres are not in train; validation_matched is the hidden test split): one JSON object per line\n"
            "with premise, hypothesis, genre and label (0 entailment, 1 neutral, 2 contradiction).\n"
            f"bert-base-uncased/: Hugging Face's {BERT} (config, vocabulary, tokenizer, weights), Apache-2.0.\n"
            "Licences: see the MultiNLI data card (OANC text; parts under CC BY-SA 3.0 and CC BY 3.0).\n"
        )


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python3 prepare/mnli.py OUT_DIR PRIVATE_DIR")
    out_dir, private_dir = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(private_dir, exist_ok=True)

    data = load_dataset(DATASET)
    train, test, validation = (rows(data[name]) for name in EXPECTED)
    for name, records in zip(EXPECTED, (train, test, validation)):
        if len(records) != EXPECTED[name]:
            print(f"warning: {name} has {len(records)} labelled pairs, expected {EXPECTED[name]}")

    write_jsonl(os.path.join(out_dir, "train.jsonl"), train)
    write_jsonl(os.path.join(out_dir, "validation.jsonl"), validation)
    write_jsonl(os.path.join(private_dir, "validation.jsonl"), validation)
    write_jsonl(os.path.join(private_dir, "test.jsonl"), test)

    bert_dir = os.path.join(out_dir, "bert-base-uncased")
    snapshot_download(BERT, allow_patterns=BERT_FILES, local_dir=bert_dir)
    shutil.rmtree(os.path.join(bert_dir, ".cache"), ignore_errors=True)  # the Hub's download bookkeeping
    missing = [name for name in BERT_FILES if not os.path.isfile(os.path.join(bert_dir, name))]
    if missing:
        sys.exit(f"{BERT} is missing {missing}")
    tokenizer_dir = os.path.join(private_dir, "bert_tokenizer")
    os.makedirs(tokenizer_dir, exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(bert_dir, name), os.path.join(tokenizer_dir, name))

    write_readme(out_dir, {"train": len(train), "validation": len(validation)})
    print(f"wrote {out_dir}: train {len(train)}, validation {len(validation)}; {private_dir}: test {len(test)}")


if __name__ == "__main__":
    main()
