"""Helpers for task evaluation scripts, which run in the grader container (PYTHONPATH has /opt/mlgym).

Importing this module keeps the real stdout for the result and points fd 1 at /dev/null: the agent's
code may run in the evaluation's process, and nothing it prints may pass for the result.
"""
import csv
import importlib.util
import json
import math
import numbers
import os
import random
import sys

# The repeated games: GAMES games of ROUNDS rounds per split.
GAMES = 10_000
ROUNDS = 10

_RESULT = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)


def split():
    """'validation' or 'test'."""
    return os.environ.get("MLGYM_SPLIT", "validation")


def workspace():
    """The agent's workspace, mounted read-only."""
    return os.environ.get("MLGYM_WORKSPACE", "/home/agent/workspace")


def secret(name):
    """A value of this split's `split_secrets` (task.yaml): only this split's evaluation receives it."""
    secrets = json.loads(os.environ.get("MLGYM_SECRETS") or "{}")
    if name not in secrets:
        fail(f"grader error: split_secrets.{split()}.{name} is not configured")
    return secrets[name]


def fail(message):
    """End the evaluation with a message the agent can act on."""
    print(json.dumps({"error": message}), file=_RESULT, flush=True)
    sys.exit(1)


def report(metrics):
    print(json.dumps(metrics), file=_RESULT, flush=True)


def load_agent_function(filename, function, signature, module_name=None):
    """Import `function` from the agent's `filename`; any failure ends the evaluation with a clear message."""
    path = os.path.join(workspace(), filename)
    if not os.path.isfile(path):
        fail(f"{filename} not found in the workspace")
    spec = importlib.util.spec_from_file_location(module_name or f"agent_{filename[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # the agent's code may raise anything, or exit
        fail(f"importing {filename} raised {type(exc).__name__}: {exc}")
    if not callable(getattr(module, function, None)):
        fail(f"{filename} does not define a function {function}({signature})")
    return getattr(module, function)


def read_submission_csv(name):
    """The stripped header and the rows of the workspace's CSV file `name`, or fail saying what is wrong."""
    path = os.path.join(workspace(), name)
    if not os.path.isfile(path):
        fail(f"{name} not found in the workspace")
    try:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        fail(f"{name} is not a readable CSV file: {exc}")
    if not header:
        fail(f"{name} is empty")
    return [h.strip() for h in header], rows


def call_agent(function, *args):
    """Call the agent's function; anything it raises (or an exit) ends the evaluation with a clear message."""
    try:
        return function(*args)
    except (Exception, SystemExit) as exc:
        fail(f"{function.__name__} raised {type(exc).__name__}: {exc}")


def binary_move(move):
    """A 0-or-1 move (any integer type, not a bool), or fail saying what the strategy returned."""
    if isinstance(move, bool) or not isinstance(move, numbers.Integral) or move not in (0, 1):
        fail(f"row_strategy must return 0 or 1, returned {move!r}"[:300])
    return int(move)


def play_repeated_game(row_strategy, seed, target, check_move, payoff, view):
    """Mean payoff per round of the agent's row_strategy over GAMES games of ROUNDS rounds, each against an
    opponent target.py picks. `view(history)` is what both players see; `check_move` vets the agent's move."""
    random.seed(seed)
    total = 0
    for _ in range(GAMES):
        opponent = target.pick_opponent()
        history = []
        for _ in range(ROUNDS):
            mine = check_move(call_agent(row_strategy, view(history)))
            theirs = target.column_strategy(opponent, view(history))
            total += payoff(mine, theirs)
            history.append((mine, theirs))
    return total / (GAMES * ROUNDS)


def score_repeated_game(target, check_move, payoff, view=list):
    """The games' evaluation: the agent's row_strategy played with this split's seed; its mean payoff is the Score."""
    if split() not in ("validation", "test"):
        fail(f"unknown split {split()!r}")
    row_strategy = load_agent_function("strategy.py", "row_strategy", "history")
    score = play_repeated_game(row_strategy, int(secret("seed")), target, check_move, payoff, view)
    if not math.isfinite(score):
        fail("score is not a finite number")
    report({"Score": round(score, 6)})
