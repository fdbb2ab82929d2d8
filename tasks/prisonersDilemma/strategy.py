"""Your strategy for the iterated Prisoner's Dilemma.

Each round both players choose 0 (cooperate) or 1 (defect). Payoffs to you (the row player):
  you 0, they 0 -> 3     you 0, they 1 -> 0
  you 1, they 0 -> 5     you 1, they 1 -> 1
A game lasts 10 rounds. `history` holds the rounds played so far as (your_move, their_move) pairs.
"""
import random


def row_strategy(history):
    """Return 0 to cooperate or 1 to defect, given the history of this game."""
    if not history:
        return random.randint(0, 1)
    mine, theirs = history[-1]
    draw = random.random()
    if theirs == 1:
        # Mostly answer a defection with a defection; sometimes stay put, rarely forgive.
        if draw < 0.75:
            return 1
        return mine if draw < 0.9 else 0
    # Mostly answer cooperation with cooperation; sometimes stay put, rarely defect.
    if draw < 0.6:
        return 0
    return mine if draw < 0.9 else 1
