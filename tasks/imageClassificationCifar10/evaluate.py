"""Grader for imageClassificationCifar10: accuracy of submission.csv against the hidden test labels.

Runs in the grader container (stdlib only), cwd holding this script and the dataset's private
answers.csv: index,label,split for every test image, a fixed half of them in the validation split
and the other half in the test split. MLGYM_WORKSPACE is the agent's workspace (read-only),
MLGYM_SPLIT is 'validation' or 'test'. submission.csv needs a `label` column with one class (0-9)
per test image, in the order of test_images.npy. Prints {"accuracy": ...} on the chosen split.
Usage: MLGYM_SPLIT=validation python3 evaluate.py
"""
import csv
import math
import os

import grading
from grading import fail, report

ANSWERS = "answers.csv"
SUBMISSION = "submission.csv"
CLASSES = 10


def read_answers():
    """[(label, split)] per test image, in order."""
    if not os.path.isfile(ANSWERS):
        fail(f"grader error: {ANSWERS} is missing (prepare the cifar10 data set)")
    with open(ANSWERS, newline="") as f:
        return [(int(row["label"]), row["split"]) for row in csv.DictReader(f)]


def class_number(text, line):
    try:
        value = float(text)
    except ValueError:
        fail(f"{SUBMISSION} line {line}: label {text!r} is not a number"[:300])
    if not math.isfinite(value) or value != int(value) or not 0 <= value < CLASSES:
        fail(f"{SUBMISSION} line {line}: label {text!r} is not a class number 0-{CLASSES - 1}"[:300])
    return int(value)


def read_labels(expected):
    """The submitted labels as ints, or fail saying what is wrong."""
    header, rows = grading.read_submission_csv(SUBMISSION)
    rows = [row for row in rows if row]
    if "label" not in header:
        fail(f"{SUBMISSION} needs a column named label (found: {', '.join(header)[:200]})")
    if len(rows) != expected:
        fail(f"{SUBMISSION} has {len(rows)} rows, expected {expected}: one label per test image, in order")
    column = header.index("label")
    labels = []
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            fail(f"{SUBMISSION} line {line}: {len(row)} fields, the header has {len(header)}")
        labels.append(class_number(row[column], line))
    return labels


def main():
    split = grading.split()
    if split not in ("validation", "test"):
        fail(f"unknown split {split!r}")
    answers = read_answers()
    labels = read_labels(len(answers))
    scored = [predicted == truth for predicted, (truth, s) in zip(labels, answers) if s == split]
    report({"accuracy": round(sum(scored) / len(scored), 6)})


if __name__ == "__main__":
    main()
