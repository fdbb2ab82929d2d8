"""The opponent (column player) in Colonel Blotto, as in MLGym-Bench: a fresh random allocation of
120 soldiers over 6 battlefields every round, whatever the history.

It draws a whole number 0-120 per battlefield, scales the draws down to 120 soldiers (rounding each
down) and adds the few soldiers lost to rounding to one battlefield chosen at random.
`history` is from the row player's view: (row_allocation, column_allocation) pairs.
"""
import random

FIELDS = 6
SOLDIERS = 120


def target_column_strategy(history):
    draws = [random.randint(0, SOLDIERS) for _ in range(FIELDS)]
    total = sum(draws)
    if total == 0:
        # All six draws zero (about one chance in 3e12): draw again rather than divide by zero.
        return target_column_strategy(history)
    allocation = [draw * SOLDIERS // total for draw in draws]
    allocation[random.randrange(FIELDS)] += SOLDIERS - sum(allocation)
    return allocation
