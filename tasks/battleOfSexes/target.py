"""The opponent (column player) in the Battle of the Sexes. Each game it plays one of these
characters, drawn at random. It prefers action 1: it earns 2 when both play 1 and 1 when both play 0.

`history` is from the row player's view: (row_move, column_move) pairs of the rounds so far.
"""
import random


def first_impression(history):
    """Opens with its favourite, then follows the row player's opening move 80% of the time."""
    if not history:
        return 1
    opening = history[0][0]
    return opening if random.random() < 0.8 else 1 - opening


def follower(history):
    """Opens with its favourite, then repeats whatever the row player did last round."""
    return history[-1][0] if history else 1


def stubborn(history):
    """Insists on its favourite and gives in only now and then."""
    return 1 if random.random() < 0.9 else 0


def coin_flip(history):
    return random.randint(0, 1)


CHARACTERS = [first_impression, follower, stubborn, coin_flip]


def pick_opponent():
    return random.choice(CHARACTERS)


def column_strategy(opponent, history):
    return opponent(history)
