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
    """Return a list of 6 non-negative integers with a sum of at most 120."""
    allocation = [0] * FIELDS
    # Reinforce a few battlefields at random...
    for _ in range(random.randint(1, FIELDS)):
        allocation[random.randrange(FIELDS)] += random.randint(10, 30)
    # ...give each battlefield left empty a random share of what remains...
    for field in range(FIELDS):
        if allocation[field] == 0:
            allocation[field] = random.randint(0, max(0, SOLDIERS - sum(allocation)))
    # ...then scale the whole allocation to 120 soldiers.
    total = sum(allocation)
    allocation = [soldiers * SOLDIERS // total for soldiers in allocation]
    allocation[random.randrange(FIELDS)] += SOLDIERS - sum(allocation)
    return allocation
