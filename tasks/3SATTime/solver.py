"""A DPLL SAT solver that asks a heuristic which variable to branch on next.

A formula is a list of clauses; a clause is a tuple of non-zero integers (literals): `v` means
variable v is true, `-v` means it is false. Variables are numbered 1..num_vars.

At every branching point the solver calls

    heuristic_fn(clauses, assignments, conflict_count, assignment_history, level) -> (variable, value)

with read-only arguments:
  clauses             the clauses not yet satisfied, already simplified by the current assignments
                      (a tuple of tuples of literals; false literals are removed)
  assignments         {variable: bool} of the variables assigned so far (decided or forced)
  conflict_count      {variable: int}, how many times propagating a value of that variable hit a
                      conflict so far in this instance
  assignment_history  the decisions on the current branch, outermost first, as (variable, value)
  level               the decision depth, len(assignment_history)
and branches on `variable` = `value` first, then on the opposite value. `variable` must be an
unassigned variable in 1..num_vars and `value` a bool.

The grader uses its own copy of this file; only heuristic.py is taken from your workspace.
"""
import numbers
from types import MappingProxyType


class HeuristicError(Exception):
    """The heuristic returned something the solver cannot use."""


def assign(clauses, literal):
    """Make `literal` true: drop the clauses it satisfies, remove its negation from the others.
    Returns the remaining clauses, or None if a clause becomes empty (a conflict)."""
    negation = -literal
    remaining = []
    for clause in clauses:
        if literal in clause:
            continue
        if negation in clause:
            if len(clause) == 1:
                return None
            clause = tuple(lit for lit in clause if lit != negation)
        remaining.append(clause)
    return tuple(remaining)


class Solver:
    def __init__(self, num_vars, heuristic_fn):
        self.num_vars = num_vars
        self.heuristic_fn = heuristic_fn
        self.decisions = 0
        self.conflicts = {var: 0 for var in range(1, num_vars + 1)}

    def solve(self, clauses):
        """Return (True, {variable: bool} for every variable) or (False, None)."""
        assignments = self._search(tuple(tuple(c) for c in clauses), {}, [])
        if assignments is None:
            return False, None
        # Variables that no longer mattered can take any value.
        return True, {var: assignments.get(var, True) for var in range(1, self.num_vars + 1)}

    def _propagate(self, clauses, assignments):
        """Unit propagation: assign every literal that is alone in its clause, until none is left."""
        while True:
            unit = next((clause[0] for clause in clauses if len(clause) == 1), None)
            if unit is None:
                return clauses
            assignments[abs(unit)] = unit > 0
            clauses = assign(clauses, unit)
            if clauses is None:
                self.conflicts[abs(unit)] += 1
                return None

    def _choose(self, clauses, assignments, history):
        try:
            choice = self.heuristic_fn(
                clauses, MappingProxyType(assignments), MappingProxyType(self.conflicts), tuple(history), len(history)
            )
        except (Exception, SystemExit) as exc:  # the heuristic is the agent's code
            raise HeuristicError(f"heuristic_fn raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(choice, (tuple, list)) or len(choice) != 2:
            raise HeuristicError(f"heuristic_fn must return a (variable, value) pair, returned {choice!r}"[:300])
        variable, value = choice
        if isinstance(variable, bool) or not isinstance(variable, numbers.Integral):
            raise HeuristicError(f"heuristic_fn returned variable {variable!r}, expected an int"[:300])
        variable = int(variable)
        if not 1 <= variable <= self.num_vars or variable in assignments:
            raise HeuristicError(f"heuristic_fn returned variable {variable}, which is not an unassigned variable in 1..{self.num_vars}")
        if value is not True and value is not False:
            if not isinstance(value, numbers.Number) or value not in (0, 1):
                raise HeuristicError(f"heuristic_fn returned value {value!r}, expected True or False"[:300])
            value = bool(value)
        return variable, value

    def _search(self, clauses, assignments, history):
        clauses = self._propagate(clauses, assignments)
        if clauses is None:
            return None
        if not clauses:
            return assignments
        variable, value = self._choose(clauses, assignments, history)
        self.decisions += 1
        for tried in (value, not value):
            branch = assign(clauses, variable if tried else -variable)
            if branch is None:
                self.conflicts[variable] += 1
                continue
            history.append((variable, tried))
            found = self._search(branch, {**assignments, variable: tried}, history)
            history.pop()
            if found is not None:
                return found
        return None


def satisfies(clauses, assignment):
    """True if every clause has a literal made true by the {variable: bool} assignment."""
    return all(any(assignment.get(abs(lit)) == (lit > 0) for lit in clause) for clause in clauses)
