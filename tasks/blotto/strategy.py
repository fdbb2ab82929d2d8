"""Your strategy for Colonel Blotto.

Each round you and the opponent each split 120 soldiers over 6 battlefields. Whoever sends more
soldiers to a battlefield wins it (a tie wins it for nobody). You win the round (+1) if you win
more battlefields than the opponent, lose it (-1) if you win fewer, and draw (0) otherwise.
A game lasts 10 rounds. `history` holds the rounds played so far as (your_allocation,
their_allocation) pairs.
"""
import random

FIELDS = 6
SOLDIERS = 120


def row_strategy(history):
    """Return a list of 6 non-negative integers that sum to 120."""
    # A random allocation: random weights, scaled to 120 soldiers.
    weights = [random.random() for _ in range(FIELDS)]
    allocation = [int(w * SOLDIERS / sum(weights)) for w in weights]
    allocation[random.randrange(FIELDS)] += SOLDIERS - sum(allocation)
    return allocation
