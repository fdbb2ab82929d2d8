"""Grader for blotto: plays the agent's row_strategy against target.py, prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own seed, in task.yaml's split_secrets.
The agent's row_strategy runs in a sandboxed process of its own (grading.score_repeated_game); the
opponent and the random stream it draws from, seeded with the split's seed, stay in this process.
Every allocation is checked: a list or tuple of 6 non-negative integers with a sum of at most 120, as in
MLGym-Bench, except that MLGym does not check the length (a shorter list played only its first battlefields).
"""
import numbers

import grading
import target
from grading import fail


FIELDS = 6
SOLDIERS = 120


def check_allocation(allocation):
    """Return the allocation as a list of ints, or fail with what is wrong with it."""
    shown = repr(allocation)[:200]
    if not isinstance(allocation, (list, tuple)):
        fail(f"row_strategy must return a list of {FIELDS} integers, returned {shown}")
    if len(allocation) != FIELDS:
        fail(f"row_strategy must return {FIELDS} numbers (one per battlefield), returned {len(allocation)}: {shown}")
    for soldiers in allocation:
        if isinstance(soldiers, bool) or not isinstance(soldiers, numbers.Integral):
            fail(f"each battlefield needs a whole number of soldiers, got {soldiers!r} in {shown}")
        if soldiers < 0:
            fail(f"soldiers per battlefield must be non-negative, got {soldiers} in {shown}")
    allocation = [int(s) for s in allocation]
    if sum(allocation) > SOLDIERS:
        fail(f"an allocation may use at most {SOLDIERS} soldiers, {shown} uses {sum(allocation)}")
    return allocation


def round_payoff(row, column):
    won = sum(r > c for r, c in zip(row, column))
    lost = sum(r < c for r, c in zip(row, column))
    return (won > lost) - (won < lost)


def private_copy(history):
    """Each player gets its own copy, so neither can change the record."""
    return [(list(r), list(c)) for r, c in history]


if __name__ == "__main__":
    grading.score_repeated_game(target, check_allocation, round_payoff, view=private_copy)
