"""The opponent (column player) in Colonel Blotto. Each game it plays one of these characters,
drawn at random. An allocation is a list of 6 non-negative integers summing to 120.

`history` is from the row player's view: (row_allocation, column_allocation) pairs.
"""
import random

FIELDS = 6
SOLDIERS = 120


def spread(weights):
    """Turn non-negative weights into an allocation of exactly SOLDIERS soldiers."""
    total = sum(weights) or 1
    allocation = [int(w * SOLDIERS / total) for w in weights]
    for _ in range(SOLDIERS - sum(allocation)):
        allocation[random.randrange(FIELDS)] += 1
    return allocation


def scatter(history):
    """A fresh random allocation every round."""
    return spread([random.random() for _ in range(FIELDS)])


def even(history):
    """About 20 soldiers everywhere, give or take a few."""
    return spread([random.uniform(0.8, 1.2) for _ in range(FIELDS)])


def focus(history):
    """Everything on three fields, chosen at random each round."""
    chosen = random.sample(range(FIELDS), 3)
    return spread([1.0 if field in chosen else 0.0 for field in range(FIELDS)])


def counter(history):
    """Beats the row player's last allocation on its four weakest fields; random in round one."""
    if not history:
        return scatter(history)
    last = history[-1][0]
    weakest = sorted(range(FIELDS), key=lambda field: (last[field], random.random()))[:4]
    allocation = [0] * FIELDS
    for field in weakest:
        allocation[field] = last[field] + 1
    left = SOLDIERS - sum(allocation)
    if left < 0:
        return scatter(history)
    for _ in range(left):
        allocation[random.choice(weakest)] += 1
    return allocation


CHARACTERS = [scatter, even, focus, counter]


def pick_opponent():
    return random.choice(CHARACTERS)


def column_strategy(opponent, history):
    return opponent(history)
