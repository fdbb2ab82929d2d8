"""Grader for imageClassificationCifar10: accuracy of submission.csv against the hidden labels.

Runs in the grader container (stdlib only), cwd holding this script and the dataset's private
answers.csv: index,label,split for every image of test_images.npy, i.e. the 10,000 images of
CIFAR-10's test split (split `test`, scored whole as in MLGym) followed by the 5,000 training
images held out for validation (split `validation`). MLGYM_WORKSPACE is the agent's workspace
(read-only), MLGYM_SPLIT is 'validation' or 'test'. submission.csv needs a `label` column with one
class (0-9) per image of test_images.npy, in order. Prints {"accuracy": ...} on the chosen split.
Usage: MLGYM_SPLIT=validation python3 evaluate.py
"""
import grading
from grading import report

ANSWERS = "answers.csv"
SUBMISSION = "submission.csv"
CLASSES = 10


def main():
    split = grading.split()
    answers = grading.split_labels(ANSWERS, "prepare the cifar10 data set: mlgym prepare imageClassificationCifar10")
    labels = grading.read_class_labels(SUBMISSION, len(answers), CLASSES)
    scored = [predicted == truth for predicted, (truth, s) in zip(labels, answers) if s == split]
    report({"accuracy": round(sum(scored) / len(scored), 6)})


if __name__ == "__main__":
    main()
