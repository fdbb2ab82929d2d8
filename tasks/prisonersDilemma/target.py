"""The opponent (column player). Each game it plays one of these characters, drawn at random."""
import random


def always_cooperate(history):
    return 0


def always_defect(history):
    return 1


def tit_for_tat(history):
    return history[-1][0] if history else 0


def grudger(history):
    return 1 if any(row == 1 for row, _ in history) else 0


def coin_flip(history):
    return random.randint(0, 1)


def suspicious_tit_for_tat(history):
    return history[-1][0] if history else 1


CHARACTERS = [always_cooperate, always_defect, tit_for_tat, grudger, coin_flip, suspicious_tit_for_tat]


def pick_opponent():
    return random.choice(CHARACTERS)


def column_strategy(opponent, history):
    """`history` is from the row player's view: (row_move, column_move) pairs."""
    return opponent(history)
