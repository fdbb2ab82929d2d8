"""Grader for imageClassificationCifar10: accuracy of submission.csv against the hidden test labels.

Runs in the grader container (stdlib only), cwd holding this script and the dataset's private
answers.csv: index,label,split for every test image, a fixed half of them in the validation split
and the other half in the test split. MLGYM_WORKSPACE is the agent's workspace (read-only),
MLGYM_SPLIT is 'validation' or 'test'. submission.csv needs a `label` column with one class (0-9)
per test image, in the order of test_images.npy. Prints {"accuracy": ...} on the chosen split.
Usage: MLGYM_SPLIT=validation python3 evaluate.py
"""
import grading
from grading import report

ANSWERS = "answers.csv"
SUBMISSION = "submission.csv"
CLASSES = 10


def main():
    split = grading.split()
    answers = grading.split_labels(ANSWERS, "prepare the cifar10 data set")
    labels = grading.read_class_labels(SUBMISSION, len(answers), CLASSES)
    scored = [predicted == truth for predicted, (truth, s) in zip(labels, answers) if s == split]
    report({"accuracy": round(sum(scored) / len(scored), 6)})


if __name__ == "__main__":
    main()
