"""Import MLGym's 3SATTime instance set (its data/3SATTime/data/dataset.pkl), which is not published.

Run by `mlgym prepare 3SATTime --from <dataset.pkl or its folder>` in the task's image (docs/tasks.md,
"Importing a user's copy of the original data"):
    python3 import_original.py SOURCE TASK_DIR DATA_ROOT PRIVATE_ROOT
SOURCE is MLGym's pickle: a list of tuples (index, num_vars, num_clauses, clauses, is_sat, extra), the
clauses a list of lists of non-zero literals (Python or numpy integers), is_sat a bool (or 0/1).
It is read without running any code it names: only lists, tuples, numbers, strings and numpy integer
and bool scalars are accepted. Every instance is checked (literal range, clause count) and written in
file order to TASK_DIR/original/instances.jsonl, one {"vars", "clauses", "sat"} object per line, with
TASK_DIR/original/IMPORTED.txt (its sha256 and counts). The grader then scores the test split on this
set and the validation split on the same set relabelled (instances.py). Bad input exits with status 2
and an `error: ...` line naming the file and what was expected.
"""
import hashlib
import io
import json
import numbers
import os
import pickle
import sys

# MLGym's set as its released runs describe it.
MLGYM_COUNT, MLGYM_SATISFIABLE = 24_000, 10_278
NUMPY_MODULES = ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")


def bad_input(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


class _DType:
    """Stands in for numpy.dtype while unpickling: just the type code and byte order."""

    def __init__(self, code, align=False, copy=False):
        self.code, self.order = code, "<"

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in "<>|=":
            self.order = state[1]


def _scalar(dtype, data):
    """Stands in for numpy's scalar constructor: integer and bool scalars only."""
    if not isinstance(dtype, _DType) or not isinstance(data, bytes):
        raise pickle.UnpicklingError("a numpy scalar without its dtype and bytes")
    kind = dtype.code[:1]
    if kind in ("i", "u") and len(data) in (1, 2, 4, 8):
        return int.from_bytes(data, "big" if dtype.order == ">" else "little", signed=kind == "i")
    if dtype.code in ("b1", "?") and len(data) == 1:
        return bool(data[0])
    raise pickle.UnpicklingError(f"a numpy scalar of type {dtype.code!r} (expected integers or bools)")


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module in NUMPY_MODULES and name == "dtype":
            return _DType
        if module in NUMPY_MODULES and name == "scalar":
            return _scalar
        raise pickle.UnpicklingError(f"it names {module}.{name}; only plain lists, tuples, numbers and numpy integer scalars are read")


def read_pickle(path, shown):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return _PlainUnpickler(io.BytesIO(raw)).load(), hashlib.sha256(raw).hexdigest()
    except Exception as exc:  # a damaged or foreign pickle raises many kinds
        bad_input(f"{shown} is not a pickle of plain data ({type(exc).__name__}: {str(exc)[:200]}); expected MLGym's "
                  "3SATTime dataset.pkl")


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def checked_instance(item, position, shown):
    """{"vars", "clauses", "sat"} of one tuple of the pickle, or bad_input saying what is wrong."""
    where = f"{shown}, instance {position}"
    if not isinstance(item, (tuple, list)) or len(item) != 6:
        bad_input(f"{where}: expected a tuple (index, num_vars, num_clauses, clauses, is_sat, extra), got {repr(item)[:100]}")
    _, num_vars, num_clauses, clauses, is_sat, _ = item
    if not is_int(num_vars) or num_vars < 1 or not is_int(num_clauses) or num_clauses < 0:
        bad_input(f"{where}: num_vars and num_clauses must be positive integers, got {num_vars!r} and {num_clauses!r}")
    if not isinstance(clauses, (list, tuple)) or len(clauses) != num_clauses:
        bad_input(f"{where}: expected a list of {num_clauses} clauses, got {repr(clauses)[:100]}")
    plain = []
    for clause in clauses:
        if not isinstance(clause, (list, tuple)) or not clause or not all(is_int(lit) and 1 <= abs(lit) <= num_vars for lit in clause):
            bad_input(f"{where}: a clause must be a non-empty list of literals ±1..±{num_vars}, got {repr(clause)[:100]}")
        plain.append([int(lit) for lit in clause])
    if is_sat not in (True, False):
        bad_input(f"{where}: is_sat must be a bool, got {is_sat!r}")
    return {"vars": int(num_vars), "clauses": plain, "sat": bool(is_sat)}


def source_file(source, shown):
    if os.path.isdir(source):
        path = os.path.join(source, "dataset.pkl")
        if not os.path.isfile(path):
            bad_input(f"{shown} is a folder without dataset.pkl; expected MLGym's 3SATTime dataset.pkl or its folder")
        return path, os.path.join(shown, "dataset.pkl")
    return source, shown


def write(items, task_dir, digest, shown):
    folder = os.path.join(task_dir, "original")
    os.makedirs(folder, exist_ok=True)
    partial = os.path.join(folder, "instances.jsonl.partial")
    with open(partial, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, separators=(",", ":")) + "\n")
    os.replace(partial, os.path.join(folder, "instances.jsonl"))
    satisfiable = sum(item["sat"] for item in items)
    with open(os.path.join(folder, "IMPORTED.txt"), "w", encoding="utf-8") as f:
        f.write(f"source {shown}\nsha256 {digest}\ninstances {len(items)}\nsatisfiable {satisfiable}\n")
    return satisfiable


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: python3 import_original.py SOURCE TASK_DIR DATA_ROOT PRIVATE_ROOT")
    source, task_dir = sys.argv[1:3]
    path, shown = source_file(source, os.environ.get("MLGYM_IMPORT_SHOWN", source))
    data, digest = read_pickle(path, shown)
    if not isinstance(data, (list, tuple)) or not data:
        bad_input(f"{shown}: expected a non-empty list of instances, got {type(data).__name__}")
    items = [checked_instance(item, i, shown) for i, item in enumerate(data)]
    satisfiable = write(items, task_dir, digest, shown)
    if (len(items), satisfiable) != (MLGYM_COUNT, MLGYM_SATISFIABLE):
        print(f"note: MLGym's set has {MLGYM_COUNT} instances, {MLGYM_SATISFIABLE} satisfiable; {shown} has {len(items)}, "
              f"{satisfiable} satisfiable", file=sys.stderr)
    print(f"imported {shown}: {len(items)} instances, {satisfiable} satisfiable", file=sys.stderr)


if __name__ == "__main__":
    main()
