"""Grader for imageClassificationFMnist: accuracy of submission.csv against the private test labels.

Runs in the grader container, stdlib only. MLGYM_WORKSPACE is the agent's workspace (read-only),
MLGYM_SPLIT is 'validation' or 'test'. answers.csv (private, next to this script) holds the label
of each of the 10,000 test images and its split: a fixed half of them is the validation split, the
other half the test split. submission.csv must have a `label` column with one class (0-9) per
test image, in the order of test_images.npy. Prints {"accuracy": ...}.
"""
import grading
from grading import report

ANSWERS = "answers.csv"
SUBMISSION = "submission.csv"
CLASSES = 10


def main():
    split = grading.split()
    answers = grading.split_labels(ANSWERS, "run scripts/prepare-data.sh")
    labels = grading.read_class_labels(SUBMISSION, len(answers), CLASSES)
    scored = [predicted == truth for predicted, (truth, s) in zip(labels, answers) if s == split]
    report({"accuracy": round(sum(scored) / len(scored), 6)})


if __name__ == "__main__":
    main()
