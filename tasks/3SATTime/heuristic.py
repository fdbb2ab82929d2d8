"""The branching heuristic of the DPLL solver in solver.py: make the solver faster.

heuristic_fn(clauses, assignments, conflict_count, assignment_history, level) -> (variable, value)
  clauses             the unsatisfied clauses, simplified by the current assignments (tuple of tuples
                      of literals: v means variable v is true, -v means it is false)
  assignments         read-only {variable: bool} of the variables assigned so far
  conflict_count      read-only {variable: int}: conflicts hit while propagating each variable
  assignment_history  the decisions on the current branch as (variable, value), outermost first
  level               the decision depth
Return an unassigned variable and the value to try first (the solver tries the other one after).
"""
import random


def heuristic_fn(clauses, assignments, conflict_count, assignment_history, level):
    # Baseline (MLGym's): a uniformly random unassigned variable, tried as True first, from a fixed
    # seed at every call, so the same clauses always give the same choice.
    random.seed(10)
    variables = sorted({abs(lit) for clause in clauses for lit in clause} - set(assignments))
    return random.choice(variables), True
