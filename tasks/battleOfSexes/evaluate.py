"""Grader for battleOfSexes: plays the agent's row_strategy against target.py, prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own seed.
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
SEEDS = {"validation": 2718, "test": 31415}
# Payoff to the row player for (row_move, column_move).
PAYOFF = {(0, 0): 2, (1, 1): 1, (0, 1): 0, (1, 0): 0}


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


def play(row_strategy, seed):
    random.seed(seed)
    total = 0
    for _ in range(GAMES):
        opponent = target.pick_opponent()
        history = []
        for _ in range(ROUNDS):
            try:
                move = row_strategy(list(history))
            except (Exception, SystemExit) as exc:
                fail(f"row_strategy raised {type(exc).__name__}: {exc}")
            if isinstance(move, bool) or not isinstance(move, numbers.Integral) or move not in (0, 1):
                fail(f"row_strategy must return 0 or 1, returned {move!r}"[:300])
            move = int(move)
            theirs = target.column_strategy(opponent, list(history))
            total += PAYOFF[(move, theirs)]
            history.append((move, theirs))
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
