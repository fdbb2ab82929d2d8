"""Grader for regressionKaggleHousePrice: scores submission.csv against the private answers.

Runs in the grader container, stdlib only. MLGYM_WORKSPACE is the agent's workspace (read-only),
MLGYM_SPLIT is 'validation' or 'test'. answers.csv (private, next to this script) holds the price
of every house in validation.csv and test.csv with its split. submission.csv must have an Id and
a SalePrice column and exactly one row per Id of validation.csv and test.csv; each split is
scored on its own rows. Prints {"r2": ..., "rmse": ...}.
"""
import math

import grading
from grading import fail, report

ANSWERS = "answers.csv"
SUBMISSION = "submission.csv"


def read_answers():
    rows = grading.read_private_csv(ANSWERS, "run scripts/prepare-data.sh")
    return {int(row["Id"]): (float(row["SalePrice"]), row["split"]) for row in rows}


def read_submission(answers):
    """{Id: predicted price} for exactly the Ids in `answers`, or fail saying what is wrong."""
    header, rows = grading.read_submission_csv(SUBMISSION)
    missing = [c for c in ("Id", "SalePrice") if c not in header]
    if missing:
        fail(f"{SUBMISSION} needs the columns Id and SalePrice; missing {', '.join(missing)} (found: {', '.join(header)[:200]})")
    id_col, price_col = header.index("Id"), header.index("SalePrice")
    predictions = {}
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            fail(f"{SUBMISSION} line {line}: {len(row)} fields, the header has {len(header)}")
        try:
            rid = int(float(row[id_col]))
        except ValueError:
            fail(f"{SUBMISSION} line {line}: Id {row[id_col]!r} is not an integer")
        try:
            price = float(row[price_col])
        except ValueError:
            fail(f"{SUBMISSION} line {line}: SalePrice {row[price_col]!r} is not a number")
        if not math.isfinite(price):
            fail(f"{SUBMISSION} line {line}: SalePrice is {row[price_col]!r}; every prediction must be a finite number")
        if rid not in answers:
            fail(f"{SUBMISSION} line {line}: Id {rid} is not in validation.csv or test.csv")
        if rid in predictions:
            fail(f"{SUBMISSION} line {line}: Id {rid} appears more than once")
        predictions[rid] = price
    if len(predictions) != len(answers):
        absent = sorted(set(answers) - set(predictions))
        fail(
            f"{SUBMISSION} has {len(predictions)} predictions, expected {len(answers)}: one per Id of validation.csv and "
            f"test.csv; missing Ids include {', '.join(map(str, absent[:5]))}"
        )
    return predictions


def scores(pairs):
    """r2 and rmse of (true, predicted) pairs."""
    n = len(pairs)
    mean = sum(t for t, _ in pairs) / n
    sse = sum((t - p) ** 2 for t, p in pairs)
    sst = sum((t - mean) ** 2 for t, _ in pairs)
    return 1 - sse / sst, math.sqrt(sse / n)


def main():
    split = grading.split()
    answers = read_answers()
    predictions = read_submission(answers)
    pairs = [(price, predictions[rid]) for rid, (price, s) in answers.items() if s == split]
    r2, rmse = scores(pairs)
    if not (math.isfinite(r2) and math.isfinite(rmse)):
        fail("the predictions give a metric that is not a finite number (are they too large?)")
    report({"r2": round(r2, 6), "rmse": round(rmse, 2)})


if __name__ == "__main__":
    main()
