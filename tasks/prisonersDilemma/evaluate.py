"""Grader for prisonersDilemma: plays the agent's row_strategy against target.py, prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own seeds.
"""
import importlib.util
import json
import math
import os
import random
import sys

import target

ROUNDS = 10
GAMES = 10_000
SEEDS = {"validation": 1729, "test": 4104}
PAYOFF = {(0, 0): 3, (0, 1): 0, (1, 0): 5, (1, 1): 1}


def fail(message):
    print(json.dumps({"error": message}))
    sys.exit(1)


def load_strategy(workspace):
    path = os.path.join(workspace, "strategy.py")
    if not os.path.isfile(path):
        fail("strategy.py not found in the workspace")
    spec = importlib.util.spec_from_file_location("agent_strategy", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the agent's code may raise anything
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
            except Exception as exc:
                fail(f"row_strategy raised {type(exc).__name__}: {exc}")
            if move not in (0, 1) or isinstance(move, bool):
                fail(f"row_strategy must return 0 or 1, returned {move!r}")
            their = target.column_strategy(opponent, history)
            total += PAYOFF[(move, their)]
            history.append((move, their))
    return total / (GAMES * ROUNDS)


def main():
    split = os.environ.get("MLGYM_SPLIT", "validation")
    if split not in SEEDS:
        fail(f"unknown split {split!r}")
    score = play(load_strategy(os.environ.get("MLGYM_WORKSPACE", "/home/agent/workspace")), SEEDS[split])
    if not math.isfinite(score):
        fail("score is not a finite number")
    print(json.dumps({"Score": round(score, 6)}))


if __name__ == "__main__":
    main()
