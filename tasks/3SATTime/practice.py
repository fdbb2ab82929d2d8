"""Try heuristic.py on practice instances: random 3-SAT like the private evaluation sets
(30, 40 and 50 variables, 4.3 clauses per variable), from a seed of your choice.

    python3 practice.py [SEED] [COUNT]

Prints the wall-clock time of the solver, its branching decisions and how many instances are
satisfiable. The evaluation measures Time the same way, once over an instance set you cannot see, with
heuristic_fn in a process of its own (its CPU time counts, not the messages to and from it).
"""
import random
import sys
import time

from heuristic import heuristic_fn
from solver import Solver, satisfies

SIZES = (30, 40, 50)
RATIO = 4.3


def practice_instances(seed, count):
    rng = random.Random(seed)
    for i in range(count):
        num_vars = SIZES[i % len(SIZES)]
        clauses = []
        for _ in range(round(RATIO * num_vars)):
            variables = set()
            while len(variables) < 3:
                variables.add(rng.randint(1, num_vars))
            clauses.append(tuple(v if rng.random() < 0.5 else -v for v in variables))
        yield num_vars, clauses


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    random.seed(seed)
    elapsed, decisions, satisfiable = 0.0, 0, 0
    for i, (num_vars, clauses) in enumerate(practice_instances(seed, count)):
        solver = Solver(num_vars, heuristic_fn)
        started = time.perf_counter()
        sat, assignment = solver.solve(clauses)
        elapsed += time.perf_counter() - started
        decisions += solver.decisions
        if sat:
            satisfiable += 1
            assert satisfies(clauses, assignment), f"instance {i}: the assignment does not satisfy the formula"
    print(f"{count} instances, {satisfiable} satisfiable: {elapsed:.3f} s, {decisions} decisions")


if __name__ == "__main__":
    main()
