"""Grader for prisonersDilemma: plays the agent's row_strategy against target.py, prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own seed, in task.yaml's split_secrets.
The agent's row_strategy runs in a sandboxed process of its own (grading.score_repeated_game); the
opponent and the random stream it draws from, seeded with the split's seed, stay in this process.
"""
import grading
import target

PAYOFF = {(0, 0): 3, (0, 1): 0, (1, 0): 5, (1, 1): 1}


def payoff(mine, theirs):
    return PAYOFF[(mine, theirs)]


if __name__ == "__main__":
    grading.score_repeated_game(target, grading.binary_move, payoff)
