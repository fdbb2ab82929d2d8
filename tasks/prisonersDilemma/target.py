"""The opponent (column player) in the iterated Prisoner's Dilemma, as in MLGym-Bench.

Every round it draws one of the eleven characters below uniformly at random and plays that character's
move for the whole history so far. `history` is from the row player's view: (row_move, column_move)
pairs of the rounds played; 0 is cooperate, 1 is defect.
"""
import random


def row_last(history):
    return history[-1][0]


def mixed(history):
    """Defects first; then cooperates a third of the time, defects a sixth, repeats its own last move
    two fifths, and otherwise plays the opposite of the row player's last move."""
    if not history:
        return 1
    draw = random.random()
    if draw < 0.3333:
        return 0
    if draw < 0.5:
        return 1
    if draw < 0.9:
        return history[-1][1]
    return 1 - row_last(history)


def tit_for_tat(history):
    return row_last(history) if history else 0


def always_cooperate(history):
    return 0


def always_defect(history):
    return 1


def uniform_random(history):
    return random.randint(0, 1)


def grim_trigger(history):
    return 1 if any(row == 1 for row, _ in history) else 0


def pavlov(history):
    """Cooperates when both players made the same move last round, defects otherwise."""
    if not history:
        return 0
    row, column = history[-1]
    return 0 if row == column else 1


def tit_for_two_tats(history):
    return 1 if len(history) >= 2 and history[-1][0] == 1 and history[-2][0] == 1 else 0


def suspicious_tit_for_tat(history):
    return row_last(history) if history else 1


def coin_flip(history):
    return 0 if random.random() < 0.5 else 1


def forgiving_tit_for_tat(history):
    """Copies the row player's last move, but forgives two defections in a row."""
    if not history:
        return 0
    if len(history) >= 2 and history[-1][0] == 1 and history[-2][0] == 1:
        return 0
    return row_last(history)


CHARACTERS = [
    mixed, tit_for_tat, always_cooperate, always_defect, uniform_random, grim_trigger,
    pavlov, tit_for_two_tats, suspicious_tit_for_tat, coin_flip, forgiving_tit_for_tat,
]


def target_column_strategy(history):
    return random.choice(CHARACTERS)(history)
