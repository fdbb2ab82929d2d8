"""Grader for prisonersDilemma: plays the agent's row_strategy against target.py, prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own seed, in task.yaml's split_secrets.
"""
import math
import random

import grading
import target
from grading import fail, load_agent_function, report

ROUNDS = 10
GAMES = 10_000
PAYOFF = {(0, 0): 3, (0, 1): 0, (1, 0): 5, (1, 1): 1}


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
            if move not in (0, 1) or isinstance(move, bool):
                fail(f"row_strategy must return 0 or 1, returned {move!r}")
            their = target.column_strategy(opponent, history)
            total += PAYOFF[(move, their)]
            history.append((move, their))
    return total / (GAMES * ROUNDS)


def main():
    split = grading.split()
    if split not in ("validation", "test"):
        fail(f"unknown split {split!r}")
    score = play(load_agent_function("strategy.py", "row_strategy", "history"), int(grading.secret("seed")))
    if not math.isfinite(score):
        fail("score is not a finite number")
    report({"Score": round(score, 6)})


if __name__ == "__main__":
    main()
