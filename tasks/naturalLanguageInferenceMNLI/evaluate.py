"""Grader for naturalLanguageInferenceMNLI: accuracy (%) of the submitted bert_mnli_model/ on hidden MNLI pairs.

Runs in the grader container: MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'. The private files next to this script hold the split's pairs with labels
(validation.jsonl: MNLI's validation_mismatched, which the agent also has; test.jsonl: all of
validation_matched, the set MLGym scores) and bert_tokenizer/.
Copies bert_mnli_model/ (regular files only, no links; grading.submitted) and loads the copy with
AutoModelForSequenceClassification (remote code off, safetensors weights only, so none of the agent's
code runs) and the tokenizer saved with it, or else bert_tokenizer/; predicts
argmax of the logits (0 entailment, 1 neutral, 2 contradiction) for each pair truncated to 128 tokens
(as MLGym) and prints {"validation_accuracy": %}.
Usage: MLGYM_SPLIT=test python3 evaluate.py
"""
import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the grader has no network; never try the Hub

import grading
from grading import fail, report

MODEL_DIR = "bert_mnli_model"
FALLBACK_TOKENIZER = "bert_tokenizer"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt")
LABELS = 3
MAX_LENGTH = 128  # MLGym's evaluation truncates pairs to 128 tokens
BATCH = 64
MODEL_BYTES = 16 * 1024 * grading.MiB  # the most the grader copies of bert_mnli_model/


def load_model(path):
    from transformers import AutoModelForSequenceClassification

    if not os.path.isfile(os.path.join(path, "config.json")):
        fail(f"{MODEL_DIR}/config.json is missing: save the model with save_pretrained")
    if not any(name.endswith(".safetensors") for name in os.listdir(path)):
        fail(f"{MODEL_DIR}/ holds no .safetensors weights: save the model with save_pretrained (it writes "
             "model.safetensors); pickled weights (pytorch_model.bin) are not loaded, as loading them could run code")
    try:
        model = AutoModelForSequenceClassification.from_pretrained(path, trust_remote_code=False, use_safetensors=True)
    except Exception as exc:  # a broken folder can raise anything from transformers or torch
        if "mismatched" in str(exc):
            fail(f"the weights in {MODEL_DIR}/ do not fit its config.json: {shape_mismatches(path)}; "
                 "save the model's config and weights together with save_pretrained")
        fail(f"cannot load {MODEL_DIR}/ with AutoModelForSequenceClassification: {type(exc).__name__}: {str(exc)[:500]}")
    if model.config.num_labels != LABELS:
        fail(f"the model has {model.config.num_labels} labels, expected {LABELS} (0 entailment, 1 neutral, 2 contradiction)")
    return model


def shape_mismatches(path):
    """The first few parameters whose saved shape differs from the one config.json implies (safetensors only)."""
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForSequenceClassification

    try:
        expected = AutoModelForSequenceClassification.from_config(AutoConfig.from_pretrained(path)).state_dict()
        with safe_open(os.path.join(path, "model.safetensors"), "pt") as f:
            saved = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception:  # the message below is only a hint; the load error stands on its own
        return "some parameters have other shapes than config.json implies"
    found = [f"{k} is {saved[k]}, config.json implies {tuple(v.shape)}"
             for k, v in expected.items() if k in saved and saved[k] != tuple(v.shape)]
    return "; ".join(found[:3]) or "some parameters have other shapes than config.json implies"


def load_tokenizer(path):
    from transformers import AutoTokenizer

    own = any(os.path.isfile(os.path.join(path, name)) for name in TOKENIZER_FILES)
    try:
        return AutoTokenizer.from_pretrained(path if own else FALLBACK_TOKENIZER, trust_remote_code=False)
    except Exception as exc:
        where = f"the tokenizer in {MODEL_DIR}/" if own else "the bert-base-uncased tokenizer"
        fail(f"cannot load {where}: {type(exc).__name__}: {str(exc)[:500]}")


def read_rows(split):
    return grading.read_private_jsonl(f"{split}.jsonl", "prepare the mnli data set")


def predict(model, tokenizer, pairs, device):
    """Predicted label ids, in the order of pairs; batches hold pairs of similar length to save padding."""
    import torch

    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    predicted = [0] * len(pairs)
    with torch.no_grad():
        for start in range(0, len(order), BATCH):
            chunk = order[start:start + BATCH]
            try:
                batch = tokenizer([pairs[i][0] for i in chunk], [pairs[i][1] for i in chunk], truncation=True,
                                  max_length=MAX_LENGTH, padding=True, return_tensors="pt")
                logits = model(**{k: v.to(device) for k, v in batch.items()}).logits.float()
            except Exception as exc:
                fail(f"the model failed on a batch of pairs: {type(exc).__name__}: {str(exc)[:500]}")
            if logits.ndim != 2 or logits.shape[1] != LABELS:
                fail(f"the model's logits have shape {tuple(logits.shape)}, expected (batch, {LABELS})")
            if not torch.isfinite(logits).all():
                fail("the model produced NaN or infinite logits")
            for i, label in zip(chunk, logits.argmax(-1).tolist()):
                predicted[i] = label
    return predicted


def main():
    split = grading.split()
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    path = grading.submitted(MODEL_DIR, kind="dir", max_bytes=MODEL_BYTES,
                             missing=f"{MODEL_DIR}/ not found in the workspace (a folder): save your model there with "
                                     f"model.save_pretrained('{MODEL_DIR}')")
    model = load_model(path).to(device).eval()
    tokenizer = load_tokenizer(path)
    rows = read_rows(split)
    predicted = predict(model, tokenizer, [(r["premise"], r["hypothesis"]) for r in rows], device)
    accuracy = 100.0 * sum(p == r["label"] for p, r in zip(predicted, rows)) / len(rows)
    if not math.isfinite(accuracy):
        fail("accuracy is not a finite number")
    report({"validation_accuracy": round(accuracy, 4)})


if __name__ == "__main__":
    main()
