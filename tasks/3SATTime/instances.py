"""The private 3SATTime instance sets.

By default (offline): random 3-SAT near the satisfiability threshold, generated deterministically from
a seed per split. Only Random.random() is used, whose sequence Python keeps stable across versions; a
fingerprint of each set guards the recorded answers against any drift.

With MLGym's own set imported (`mlgym prepare 3SATTime --from dataset.pkl`, import_original.py), the
test split is that set as it is and the validation split the same set relabelled with the split's seed.
"""
import hashlib
import json
import os
import random

# Where import_original.py writes MLGym's set: one JSON object per line, {"vars": n, "clauses": [[...]], "sat": bool}.
ORIGINAL = os.path.join("original", "instances.jsonl")

SIZES = (30, 40, 50)  # variables per instance, cycled
RATIO = 4.3  # clauses per variable: about half of such small instances are satisfiable
COUNT = 30  # instances per split
# Each split's seed, expected answers (S or U per instance, computed once with solver.py and checked
# with two heuristics) and fingerprint are in task.yaml's split_secrets: only that split's evaluation sees them.


def pick(rng, n):
    """A uniform integer in 1..n from Random.random() alone."""
    return 1 + int(rng.random() * n)


def random_instance(rng, num_vars):
    clauses = []
    for _ in range(round(RATIO * num_vars)):
        chosen = []
        while len(chosen) < 3:
            var = pick(rng, num_vars)
            if var not in chosen:
                chosen.append(var)
        clauses.append(tuple(var if rng.random() < 0.5 else -var for var in chosen))
    return clauses


def generate(seed, count=COUNT):
    """A list of (num_vars, clauses)."""
    rng = random.Random(seed)
    return [(SIZES[i % len(SIZES)], random_instance(rng, SIZES[i % len(SIZES)])) for i in range(count)]


def fingerprint(instances):
    text = "\n".join(f"{n}:" + " ".join(",".join(map(str, c)) for c in clauses) for n, clauses in instances)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def relabel(instances, seed):
    """The same instances with variables renamed and clauses and literals reordered (same answers)."""
    rng = random.Random(seed)

    def shuffled(items):
        items = list(items)
        for i in range(len(items) - 1, 0, -1):
            j = int(rng.random() * (i + 1))
            items[i], items[j] = items[j], items[i]
        return items

    out = []
    for num_vars, clauses in instances:
        names = [0] + shuffled(range(1, num_vars + 1))
        renamed = [tuple(shuffled(names[lit] if lit > 0 else -names[-lit] for lit in clause)) for clause in clauses]
        out.append((num_vars, shuffled(renamed)))
    return out


def read_original(path=ORIGINAL):
    """The imported set as (instances, answers): instances as generate() gives them, answers "S"/"U" each."""
    instances, answers = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            instances.append((item["vars"], [tuple(clause) for clause in item["clauses"]]))
            answers.append("S" if item["sat"] else "U")
    return instances, answers
