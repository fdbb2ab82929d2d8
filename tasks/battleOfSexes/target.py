"""The opponent (column player) in the Battle of the Sexes, as in MLGym-Bench. It prefers action 1:
it earns 2 when both play 1 and 1 when both play 0.

It opens with 1; in every later round it follows the row player's first move with probability 0.8
and plays the other move otherwise, drawn afresh each round. `history` is from the row player's
view: (row_move, column_move) pairs of the rounds so far.
"""
import random


def target_column_strategy(history):
    if not history:
        return 1
    opening = history[0][0]
    return opening if random.random() < 0.8 else 1 - opening
