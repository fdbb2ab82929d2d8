"""Grader for imageCaptioningCOCO: BLEU of the submitted captions against the hidden reference captions.

Runs in the grader container (stdlib only), cwd holding this script and the dataset's private
answers.csv: image,split,caption with the reference captions of every test image (about five each),
a fixed half of the images in the validation split and the other half in the test split.
MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is 'validation' or 'test'.
submission.csv needs a `caption` column with one caption per test image, in the order of
test_images.npy. The grader computes the score itself: "BLEU Score" is the mean over the split's
images of sentence-level BLEU-4 against all references of the image (uniform weights, brevity
penalty from the closest reference length, add-one smoothing of the 2- to 4-gram precisions as in
Lin and Och 2004: the value of NLTK's sentence_bleu with SmoothingFunction().method2). Captions are
compared lower-cased, as runs of letters and digits.
Usage: MLGYM_SPLIT=validation python3 evaluate.py
"""
import math
import re
from collections import Counter

import grading
from grading import fail, report

ANSWERS = "answers.csv"
SUBMISSION = "submission.csv"
MAX_N = 4


def tokens(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def ngrams(words, n):
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def sentence_bleu(hypothesis, references):
    """BLEU-4 of one tokenised hypothesis against its tokenised references, in [0, 1]."""
    if not hypothesis:
        return 0.0
    log_precision = 0.0
    for n in range(1, MAX_N + 1):
        counts = ngrams(hypothesis, n)
        best = Counter()
        for reference in references:
            best |= ngrams(reference, n)  # the most times each n-gram occurs in one reference
        matches = sum(min(count, best[gram]) for gram, count in counts.items())
        total = max(len(hypothesis) - n + 1, 1)  # a hypothesis shorter than n gets precision 1/2
        if n == 1:
            if matches == 0:
                return 0.0
            log_precision += math.log(matches / total)
        else:
            log_precision += math.log((matches + 1) / (total + 1))
    length = len(hypothesis)
    closest = min((abs(len(r) - length), len(r)) for r in references)[1]
    brevity = 1.0 if length >= closest else math.exp(1 - closest / length)
    return brevity * math.exp(log_precision / MAX_N)


def read_answers():
    """[(split, [reference captions])] per test image, in image order."""
    images = {}
    for row in grading.read_private_csv(ANSWERS, "prepare the coco data set"):
        split, references = images.setdefault(int(row["image"]), (row["split"], []))
        references.append(tokens(row["caption"]))
    if sorted(images) != list(range(len(images))):
        fail(f"grader error: {ANSWERS} does not cover test images 0..{len(images) - 1}")
    return [images[i] for i in range(len(images))]


def read_captions(expected):
    """The submitted captions, one per test image, or fail saying what is wrong."""
    header, rows = grading.read_submission_csv(SUBMISSION)
    if "caption" not in header:
        fail(f"{SUBMISSION} needs a column named caption (found: {', '.join(header)[:200]})")
    # A blank line is an empty caption in a one-column file; blank lines past the end are dropped.
    rows = [row or [""] * len(header) for row in rows]
    while len(rows) > expected and not any(rows[-1]):
        rows.pop()
    if len(rows) != expected:
        fail(f"{SUBMISSION} has {len(rows)} rows, expected {expected}: one caption per test image, in order")
    column = header.index("caption")
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            fail(f"{SUBMISSION} line {line}: {len(row)} fields, the header has {len(header)}")
    return [row[column] for row in rows]


def main():
    split = grading.split()
    answers = read_answers()
    captions = read_captions(len(answers))
    scores = [
        sentence_bleu(tokens(caption), references)
        for caption, (s, references) in zip(captions, answers)
        if s == split
    ]
    report({"BLEU Score": round(sum(scores) / len(scores), 6)})


if __name__ == "__main__":
    main()
