"""Grader for 3SATTime: times the DPLL solver (the grader's own solver.py) with the agent's
heuristic_fn on a private, seeded set of random 3-SAT instances and prints JSON metrics.

Runs in the grader container. MLGYM_WORKSPACE is the agent's workspace (read-only), MLGYM_SPLIT is
'validation' or 'test'; each split has its own instance set (instances.py).

The agent's heuristic_fn runs in a sandboxed process of its own (docker/runtime/sandbox.py): the
solver runs here, in the evaluator, and asks the sandbox for each branching decision, so the agent's
code can neither touch the solver, the instance sets and their answers, nor the counts reported. Only
heuristic.py is taken from the workspace (helper modules are not: put helper code in heuristic.py).

How Time is kept robust to machine noise:
  - it is CPU time, not wall-clock time, so waiting for a busy CPU does not count: the CPU time of the
    solver in this process (less the time spent passing messages to the sandbox) plus the CPU time of
    the heuristic's process (all its threads; it may start no other process) while it answers;
  - the instance set is solved in PASSES passes and Time is the mean CPU time of a pass. Pass 0
    uses the instances as generated; every later pass renames the variables and shuffles clauses
    and literals with a fixed permutation (same answers, same difficulty class), and heuristic.py
    is loaded afresh (a new process) each pass, so nothing cached in one pass helps the next;
  - Decisions, the mean number of branching decisions per pass, is reported beside it: it depends
    on the heuristic only, never on the machine.
The heuristic's `random` is seeded with the instance's index before each instance, so a heuristic that
uses it stays reproducible. Every answer is checked: a satisfying assignment must satisfy every clause,
and "unsatisfiable" must match the recorded answer. A single wrong answer makes the submission invalid
(Correct is the fraction of correct answers and is therefore 1.0 in every valid result).
"""
import math
import os
import signal
import time

import grading
import instances
import solver
from grading import agent_function, fail, report
from sandbox import SandboxError

PASSES = 3
# Wall-clock limit for all passes of one split (the variable exists for the tests; the grader never sets it).
TIME_LIMIT_S = int(os.environ.get("MLGYM_SAT_TIME_LIMIT_S", "600"))


class TimeLimit(BaseException):
    """Raised by the alarm; not an Exception, so the solver does not take it for the heuristic's error."""


SIGNATURE = "clauses, assignments, conflict_count, assignment_history, level"


class Heuristic:
    """heuristic_fn as the solver calls it: a request to the sandbox, whose messaging CPU time is counted
    apart (it is the grader's overhead, not the heuristic's)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.messaging = 0.0

    def __call__(self, clauses, assignments, conflict_count, assignment_history, level):
        started = time.process_time()
        try:
            return self.sandbox.call(clauses, dict(assignments), dict(conflict_count), assignment_history, level)
        finally:
            self.messaging += time.process_time() - started


def solve_pass(sandbox, instance_set):
    """Solve every instance; returns (cpu seconds, decisions, answers) with answers as (sat, assignment)."""
    answers = []
    decisions = 0
    elapsed = 0.0
    for i, (num_vars, clauses) in enumerate(instance_set):
        sandbox.seed(i)
        heuristic_fn = Heuristic(sandbox)
        started, agent_started = time.process_time(), sandbox.cpu_seconds()
        try:
            run = solver.Solver(num_vars, heuristic_fn)
            sat, assignment = run.solve(clauses)
        except SandboxError as exc:
            fail(f"instance {i}: {exc.message}")
        except solver.HeuristicError as exc:
            fail(f"instance {i}: {exc}")
        except RecursionError:
            fail(f"instance {i}: the solver exceeded Python's recursion limit")
        except (Exception, SystemExit) as exc:
            fail(f"instance {i}: solving raised {type(exc).__name__}: {exc}")
        elapsed += (time.process_time() - started - heuristic_fn.messaging) + (sandbox.cpu_seconds() - agent_started)
        decisions += run.decisions
        answers.append((sat, assignment))
    return elapsed, decisions, answers


def check(answers, instance_set, expected, label):
    """Fail on the first wrong answer, saying which and how many were wrong."""
    wrong = []
    for i, ((sat, assignment), (_, clauses), truth) in enumerate(zip(answers, instance_set, expected)):
        if sat is True:
            if not isinstance(assignment, dict) or not solver.satisfies(clauses, assignment):
                wrong.append(f"instance {i}: the returned assignment does not satisfy every clause")
        elif sat is False:
            if truth == "S":
                wrong.append(f"instance {i}: answered unsatisfiable, but it is satisfiable")
        else:
            wrong.append(f"instance {i}: the solver returned {sat!r} instead of True or False")
    if wrong:
        fail(f"{len(wrong)} of {len(answers)} answers wrong in {label} ({wrong[0]}); wrong answers make the submission invalid")


def on_alarm(signum, frame):
    raise TimeLimit()


def main():
    split = grading.split()
    seed = int(grading.secret("seed"))
    generated = instances.generate(seed)
    if instances.fingerprint(generated) != grading.secret("fingerprint"):
        fail("grader error: the instance generator no longer reproduces the recorded instance set")
    expected = grading.secret("expected")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TIME_LIMIT_S)
    times, decisions = [], []
    try:
        for run in range(PASSES):
            instance_set = generated if run == 0 else instances.relabel(generated, seed * 10 + run)
            # A fresh process per pass, so a heuristic cannot carry answers from one pass to the next.
            with agent_function("heuristic.py", "heuristic_fn", SIGNATURE, total_timeout_s=TIME_LIMIT_S + 5) as sandbox:
                elapsed, made, answers = solve_pass(sandbox, instance_set)
            check(answers, instance_set, expected, f"pass {run}")
            times.append(elapsed)
            decisions.append(made)
    except TimeLimit:
        fail(f"the solver ran for more than {TIME_LIMIT_S} s on the {split} split; make heuristic_fn faster")
    finally:
        signal.alarm(0)

    mean_time = sum(times) / len(times)
    if not math.isfinite(mean_time):
        fail("time is not a finite number")
    report({"Time": round(mean_time, 4), "Correct": 1.0, "Decisions": round(sum(decisions) / len(decisions), 1)})


if __name__ == "__main__":
    main()
