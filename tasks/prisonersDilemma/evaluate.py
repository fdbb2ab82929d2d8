"""Grader for prisonersDilemma: plays the agent's row_strategy against target.py, prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own seed, in task.yaml's split_secrets.
"""
import random

import grading
import target
from grading import fail

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
            move = grading.call_agent(row_strategy, list(history))
            if move not in (0, 1) or isinstance(move, bool):
                fail(f"row_strategy must return 0 or 1, returned {move!r}")
            their = target.column_strategy(opponent, history)
            total += PAYOFF[(move, their)]
            history.append((move, their))
    return total / (GAMES * ROUNDS)


if __name__ == "__main__":
    grading.score_repeated_game(play)
