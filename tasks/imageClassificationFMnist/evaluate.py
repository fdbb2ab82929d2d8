"""Grader for imageClassificationFMnist: accuracy of submission.csv against the private test labels.

Runs in the grader container, stdlib only. MLGYM_WORKSPACE is the agent's workspace (read-only),
MLGYM_SPLIT is 'validation' or 'test'. answers.csv (private, next to this script) holds the label
of each of the 10,000 test images and its split: a fixed half of them is the validation split, the
other half the test split. submission.csv must have a `label` column with one class (0-9) per
test image, in the order of test_images.npy. Prints {"accuracy": ...}.
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
    if not os.path.isfile(ANSWERS):
        fail(f"grader error: {ANSWERS} is missing (run scripts/prepare-data.sh)")
    with open(ANSWERS, newline="") as f:
        return [(int(row["label"]), row["split"]) for row in csv.DictReader(f)]


def read_labels(expected):
    """The submitted labels as ints, or fail saying what is wrong."""
    header, rows = grading.read_submission_csv(SUBMISSION)
    rows = [row for row in rows if row]
    if "label" not in header:
        fail(f"{SUBMISSION} needs a column named label (found: {', '.join(header)[:200]})")
    column = header.index("label")
    if len(rows) != expected:
        fail(f"{SUBMISSION} has {len(rows)} rows, expected {expected}: one label per test image, in order")
    labels = []
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            fail(f"{SUBMISSION} line {line}: {len(row)} fields, the header has {len(header)}")
        try:
            value = float(row[column])
        except ValueError:
            fail(f"{SUBMISSION} line {line}: label {row[column]!r} is not a number")
        if not math.isfinite(value) or value != int(value) or not 0 <= value < CLASSES:
            fail(f"{SUBMISSION} line {line}: label {row[column]!r} is not a class number 0-{CLASSES - 1}")
        labels.append(int(value))
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
