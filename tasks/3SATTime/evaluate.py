"""Grader for 3SATTime: times the DPLL solver (the grader's own solver.py) with the agent's heuristic_fn
on a private set of 3-SAT instances and prints JSON metrics, with MLGym-Bench's semantics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own instance set (instances.py): by default generated from
the split's seed, or MLGym's own set when the user imported it (import_original.py).

As in MLGym: preparing the set is untimed; Time is the wall-clock time of solving every instance once,
each with a fresh solver, in seconds rounded to 3 decimals; Correct is the number of instances solved,
Incorrect is 0 and Decisions the total number of branching decisions. A wrong answer (an assignment
that does not satisfy the formula, or "unsatisfiable" for a satisfiable one) makes the submission
invalid: the evaluation stops there with an error, so there is no partial credit.

Unlike MLGym, the agent's heuristic_fn runs in a sandboxed process of its own (docker/runtime/sandbox.py):
the solver runs here and asks the sandbox for each branching decision, so the agent's code can neither
touch the solver, the instances and their answers, nor the counts reported. A decision is then a
message to that process and back, whose wall-clock time measures the machine's scheduling more than
the heuristic: Time counts the solver's wall-clock time here plus the CPU time (all threads) the
heuristic's process spends answering, never the wait for the answer. Only heuristic.py is taken from
the workspace (put helper code in it).
"""
import os
import signal
import time

import grading
import instances
import solver
from grading import agent_function, fail, report
from sandbox import SandboxError

# Wall-clock limit of one evaluation, MLGym's training_timeout (the variable exists for the tests; the grader never sets it).
TIME_LIMIT_S = int(os.environ.get("MLGYM_SAT_TIME_LIMIT_S", "1800"))
SIGNATURE = "clauses, assignments, conflict_count, assignment_history, level"


class TimeLimit(BaseException):
    """Raised by the alarm; not an Exception, so the solver does not take it for the heuristic's error."""


def instance_set(split):
    """(instances, answers) of this split: MLGym's imported set if there is one, else the generated set."""
    seed = int(grading.secret("seed"))
    if os.path.isfile(instances.ORIGINAL):
        original, answers = instances.read_original()
        return (original if split == "test" else instances.relabel(original, seed)), answers
    generated = instances.generate(seed)
    if instances.fingerprint(generated) != grading.secret("fingerprint"):
        fail("grader error: the instance generator no longer reproduces the recorded instance set")
    return generated, grading.secret("expected")


class Heuristic:
    """heuristic_fn as the solver calls it: a request to the sandbox (the read-only views sent as plain
    dicts). It keeps the wall-clock time of those round trips and the CPU time the agent's process spent
    in them, so that Time counts the heuristic's own work, not the messaging and scheduling around it."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.round_trips = 0.0
        self.agent_cpu = 0.0

    def __call__(self, clauses, assignments, conflict_count, assignment_history, level):
        started, agent_started = time.perf_counter(), self.sandbox.cpu_seconds()
        try:
            return self.sandbox.call(clauses, dict(assignments), dict(conflict_count), assignment_history, level)
        finally:
            self.round_trips += time.perf_counter() - started
            self.agent_cpu += self.sandbox.cpu_seconds() - agent_started


def solve(heuristic, index, num_vars, clauses):
    """(sat, assignment, decisions) of one instance, or fail saying what went wrong."""
    try:
        run = solver.Solver(num_vars, heuristic)
        sat, assignment = run.solve(clauses)
    except SandboxError as exc:
        fail(f"instance {index}: {exc.message}")
    except solver.HeuristicError as exc:
        fail(f"instance {index}: {exc}")
    except RecursionError:
        fail(f"instance {index}: the solver exceeded Python's recursion limit")
    except (Exception, SystemExit) as exc:
        fail(f"instance {index}: solving raised {type(exc).__name__}: {exc}")
    return sat, assignment, run.decisions


def wrong_answer(sat, assignment, clauses, truth):
    """Why the answer is wrong, or None if it is right."""
    if sat is True:
        if not isinstance(assignment, dict) or not solver.satisfies(clauses, assignment):
            return "the returned assignment does not satisfy every clause"
        return None
    if sat is False:
        return "answered unsatisfiable, but it is satisfiable" if truth == "S" else None
    return f"the solver returned {sat!r} instead of True or False"


def solve_all(sandbox, instance_list, answers):
    """(seconds, decisions) of solving every instance once; the first wrong answer ends the evaluation.
    The seconds are the solver's wall-clock time here plus the CPU time of the heuristic's process."""
    heuristic = Heuristic(sandbox)
    elapsed, decisions = 0.0, 0
    for index, ((num_vars, clauses), truth) in enumerate(zip(instance_list, answers)):
        started = time.perf_counter()
        sat, assignment, made = solve(heuristic, index, num_vars, clauses)
        elapsed += time.perf_counter() - started
        decisions += made
        wrong = wrong_answer(sat, assignment, clauses, truth)
        if wrong:
            fail(f"instance {index}: {wrong}; a wrong answer makes the submission invalid")
    return elapsed - heuristic.round_trips + heuristic.agent_cpu, decisions


def on_alarm(signum, frame):
    raise TimeLimit()


def main():
    split = grading.split()
    instance_list, answers = instance_set(split)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        with agent_function("heuristic.py", "heuristic_fn", SIGNATURE, total_timeout_s=TIME_LIMIT_S + 5) as sandbox:
            sandbox.seed(grading.AGENT_SEED)
            elapsed, decisions = solve_all(sandbox, instance_list, answers)
    except TimeLimit:
        fail(f"the solver ran for more than {TIME_LIMIT_S} s on the {split} split; make heuristic_fn faster")
    finally:
        signal.alarm(0)
    report({"Time": round(elapsed, 3), "Correct": len(instance_list), "Incorrect": 0, "Decisions": decisions})


if __name__ == "__main__":
    main()
