"""Your strategy for the iterated Battle of the Sexes.

Each round both players choose 0 or 1. You (the row player) prefer 0, the opponent prefers 1:
  you 0, they 0 -> you get 2 (they get 1)
  you 1, they 1 -> you get 1 (they get 2)
  different moves -> both get 0
A game lasts 10 rounds. `history` holds the rounds played so far as (your_move, their_move) pairs.
"""
import random


def row_strategy(history):
    """Return 0 or 1, given the history of this game."""
    if not history:
        return 0
    mine, theirs = history[-1]
    draw = random.random()
    if draw < 0.1:
        return 0
    if draw < 0.2:
        return 1
    if draw < 0.9:
        # Meet the opponent where it was last round.
        return theirs
    return mine
