"""Grader for blotto: plays the agent's row_strategy against target.py, prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own seed. Every allocation is checked: a list or tuple
of 6 non-negative integers summing to exactly 120.
"""
import importlib.util
import json
import math
import numbers
import os
import random
import sys

import target

# The agent's code runs in this process. Keep the real stdout for the result and point fd 1 at
# /dev/null, so that nothing the agent's code prints can pass for the result.
RESULT = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)

ROUNDS = 10
GAMES = 10_000
FIELDS = 6
SOLDIERS = 120
SEEDS = {"validation": 1618, "test": 14142}


def fail(message):
    print(json.dumps({"error": message}), file=RESULT, flush=True)
    sys.exit(1)


def load_strategy(workspace):
    path = os.path.join(workspace, "strategy.py")
    if not os.path.isfile(path):
        fail("strategy.py not found in the workspace")
    spec = importlib.util.spec_from_file_location("agent_strategy", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # the agent's code may raise anything, or exit
        fail(f"importing strategy.py raised {type(exc).__name__}: {exc}")
    if not callable(getattr(module, "row_strategy", None)):
        fail("strategy.py does not define a function row_strategy(history)")
    return module.row_strategy


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
    if sum(allocation) != SOLDIERS:
        fail(f"an allocation must use exactly {SOLDIERS} soldiers, {shown} uses {sum(allocation)}")
    return allocation


def round_payoff(row, column):
    won = sum(r > c for r, c in zip(row, column))
    lost = sum(r < c for r, c in zip(row, column))
    return (won > lost) - (won < lost)


def play(row_strategy, seed):
    random.seed(seed)
    total = 0
    for _ in range(GAMES):
        opponent = target.pick_opponent()
        history = []
        for _ in range(ROUNDS):
            try:
                mine = row_strategy([(list(r), list(c)) for r, c in history])
            except (Exception, SystemExit) as exc:
                fail(f"row_strategy raised {type(exc).__name__}: {exc}")
            mine = check_allocation(mine)
            theirs = target.column_strategy(opponent, [(list(r), list(c)) for r, c in history])
            total += round_payoff(mine, theirs)
            history.append((mine, theirs))
    return total / (GAMES * ROUNDS)


def main():
    split = os.environ.get("MLGYM_SPLIT", "validation")
    if split not in SEEDS:
        fail(f"unknown split {split!r}")
    score = play(load_strategy(os.environ.get("MLGYM_WORKSPACE", "/home/agent/workspace")), SEEDS[split])
    if not math.isfinite(score):
        fail("score is not a finite number")
    print(json.dumps({"Score": round(score, 6)}), file=RESULT, flush=True)


if __name__ == "__main__":
    main()
