"""Helpers for task evaluation scripts, which run in the grader container (PYTHONPATH has /opt/mlgym).

Importing this module keeps the real stdout for the result and points fd 1 at /dev/null: the agent's
code may run in the evaluation's process, and nothing it prints may pass for the result.
"""
import importlib.util
import json
import math
import os
import sys

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


def call_agent(function, *args):
    """Call the agent's function; anything it raises (or an exit) ends the evaluation with a clear message."""
    try:
        return function(*args)
    except (Exception, SystemExit) as exc:
        fail(f"{function.__name__} raised {type(exc).__name__}: {exc}")


def score_repeated_game(play):
    """The games' evaluation: `play(row_strategy, seed)` with this split's seed; its mean payoff is the Score."""
    if split() not in ("validation", "test"):
        fail(f"unknown split {split()!r}")
    score = play(load_agent_function("strategy.py", "row_strategy", "history"), int(secret("seed")))
    if not math.isfinite(score):
        fail("score is not a finite number")
    report({"Score": round(score, 6)})
