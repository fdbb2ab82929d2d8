"""Helpers for task evaluation scripts, which run in the grader container (PYTHONPATH has /opt/mlgym).

The one home of what the graders share: the split and its secrets, the result line, copies of the
submission artifacts (`submitted`), readers of submission CSVs and of the grader's private answers,
and the agent's functions run in a sandbox (`agent_function`, the repeated games).

Nothing of the agent's runs in the evaluator's process: the agent's code runs in a sandboxed process
(sandbox.py) and the agent's files are read from private copies, taken once, as plain regular files.
Importing this module still keeps the real stdout for the result and points fd 1 at /dev/null, so
nothing a library prints can pass for the result.
"""
import atexit
import contextlib
import csv
import json
import math
import numbers
import os
import random
import shutil
import stat
import sys
import tempfile

from sandbox import Sandbox, SandboxError

# The repeated games: GAMES games of ROUNDS rounds per split, as in MLGym-Bench. MLGYM_GAMES (a smaller
# count) exists for the unit tests only; the grader never sets it.
GAMES = int(os.environ.get("MLGYM_GAMES", "10000"))
ROUNDS = 10
# The agent's process seeds its own `random` with this public value: its draws are reproducible, and
# tell it nothing about the split's seed or the opponent's draws.
AGENT_SEED = 0
# Limits of a sandboxed function (the variables exist for the tests; the grader never sets them).
CALL_TIMEOUT_S = float(os.environ.get("MLGYM_SANDBOX_CALL_TIMEOUT_S", "10"))
TOTAL_TIMEOUT_S = float(os.environ.get("MLGYM_SANDBOX_TOTAL_TIMEOUT_S", "900"))
MiB = 1 << 20
# What `submitted` copies at most, unless the evaluation says otherwise.
MAX_FILES = 10_000
MAX_DEPTH = 16
CHUNK = MiB

_RESULT = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)


def split():
    """'validation' or 'test'; anything else ends the evaluation."""
    value = os.environ.get("MLGYM_SPLIT", "validation")
    if value not in ("validation", "test"):
        fail(f"unknown split {value!r}")
    return value


def workspace():
    """The agent's workspace, mounted read-only. Read it only through `submitted`."""
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
    """Print the result: finite numbers only."""
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            fail(f"{name} is not a finite number")
    print(json.dumps(metrics), file=_RESULT, flush=True)


# -- the submission's files: copied once, as data --------------------------------------------------

def _size(n):
    return f"{n // MiB} MiB" if n >= MiB else f"{n} bytes"


class _Refused(Exception):
    pass


_STAGE = []


def _stage():
    """The evaluator's private folder of copies: MLGYM_GRADER_STAGE (kept for the other split), else a temporary one."""
    if not _STAGE:
        path = os.environ.get("MLGYM_GRADER_STAGE")
        if path:
            os.makedirs(path, mode=0o700, exist_ok=True)
        else:
            path = tempfile.mkdtemp(prefix="mlgym-stage-")
            atexit.register(shutil.rmtree, path, True)
        _STAGE.append(path)
    return _STAGE[0]


@contextlib.contextmanager
def _as_workspace_owner(root_fd):
    """Open the agent's files with the agent's rights: the evaluator (root without DAC capabilities) may
    not read a file the agent made private. Outside the grader (no switch possible) this does nothing."""
    owner = os.fstat(root_fd)
    if os.geteuid() != 0 or owner.st_uid == 0:
        yield
        return
    os.setegid(owner.st_gid)
    os.seteuid(owner.st_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def _workspace_fd():
    """The workspace folder as an O_PATH descriptor: usable as dir_fd even if the agent made it unreadable."""
    return os.open(workspace(), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)


def present(name):
    """Whether the workspace holds `name` (of any kind, a dangling link included), looked up with the agent's rights."""
    root_fd = _workspace_fd()
    try:
        with _as_workspace_owner(root_fd):
            os.stat(name, dir_fd=root_fd, follow_symlinks=False)
        return True
    except (FileNotFoundError, NotADirectoryError):
        return False
    finally:
        os.close(root_fd)


_KINDS = {stat.S_IFIFO: "named pipe (FIFO)", stat.S_IFCHR: "character device", stat.S_IFBLK: "block device",
          stat.S_IFSOCK: "socket", stat.S_IFLNK: "symbolic link"}


class _Copier:
    """Copies one artifact from the workspace without following links, refusing all but regular files and folders."""

    def __init__(self, root_fd, name, max_bytes, max_files):
        self.root_fd, self.name, self.max_bytes, self.max_files = root_fd, name, max_bytes, max_files
        self.bytes = self.files = 0
        self.links = {}  # (dev, ino) -> [shown path, link count, times seen]

    def _open(self, dir_fd, entry, shown, expected=None):
        """An fd for `entry` in dir_fd, checked to be a regular file or a folder (no link followed)."""
        with _as_workspace_owner(self.root_fd):
            try:
                before = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                return None, None
            kind = stat.S_IFMT(before.st_mode)
            if kind == stat.S_IFLNK:
                raise _Refused(f"{shown} is a symbolic link; the grader reads submissions as plain files and follows no "
                               f"links: put a regular copy there (cp --remove-destination \"$(readlink -f {shown})\" {shown})")
            if kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise _Refused(f"{shown} is a {_KINDS.get(kind, 'special file')}, not a regular file")
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_DIRECTORY if kind == stat.S_IFDIR else 0)
            try:
                fd = os.open(entry, flags, dir_fd=dir_fd)
            except PermissionError:
                raise _Refused(f"{shown} cannot be read (permission denied)") from None
            except OSError as exc:
                raise _Refused(f"{shown} changed while the grader read it ({exc.strerror})") from None
        after = os.fstat(fd)
        if (after.st_dev, after.st_ino, stat.S_IFMT(after.st_mode)) != (before.st_dev, before.st_ino, kind):
            os.close(fd)
            raise _Refused(f"{shown} changed while the grader read it")
        if expected == "file" and kind == stat.S_IFDIR:
            os.close(fd)
            raise _Refused(f"{shown} must be a file, not a folder")
        if expected == "dir" and kind != stat.S_IFDIR:
            os.close(fd)
            raise _Refused(f"{shown} must be a folder, not a file")
        return fd, after

    def copy(self, dir_fd, entry, shown, target, depth=0, expected=None):
        fd, info = self._open(dir_fd, entry, shown, expected)
        if fd is None:
            return False
        try:
            self.files += 1
            if self.files > self.max_files:
                raise _Refused(f"{self.name} holds more than {self.max_files} files and folders")
            if stat.S_ISDIR(info.st_mode):
                if depth >= MAX_DEPTH:
                    raise _Refused(f"{shown} is nested more than {MAX_DEPTH} folders deep")
                os.mkdir(target, 0o700)
                with _as_workspace_owner(self.root_fd):
                    try:
                        names = sorted(os.listdir(fd))
                    except PermissionError:
                        raise _Refused(f"{shown} cannot be listed (permission denied)") from None
                for child in names:
                    if not self.copy(fd, child, f"{shown}/{child}", os.path.join(target, child), depth + 1):
                        raise _Refused(f"{shown}/{child} changed while the grader read it")
            else:
                self._copy_file(fd, info, shown, target)
            return True
        finally:
            os.close(fd)

    def _copy_file(self, fd, info, shown, target):
        if info.st_nlink > 1:
            seen = self.links.setdefault((info.st_dev, info.st_ino), [shown, info.st_nlink, 0])
            seen[2] += 1
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), "wb") as out:
            while True:
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    break
                self.bytes += len(chunk)
                if self.bytes > self.max_bytes:
                    raise _Refused(f"{self.name} is larger than the {_size(self.max_bytes)} the grader reads")
                out.write(chunk)

    def check_links(self):
        for shown, count, seen in self.links.values():
            if seen < count:
                raise _Refused(f"{shown} is a hard link to a file outside {self.name} ({count} names, {seen} of them in "
                               f"{self.name}); submit a file of its own (cp it to a new name, then mv that back)")


def submitted(name, kind="file", max_bytes=64 * MiB, missing=None, max_files=MAX_FILES):
    """The path of the evaluator's private copy of the workspace's `name` (kind "file" or "dir").

    The copy is taken once per grader (the other split reuses it) and holds regular files and folders
    only: a symbolic link (anywhere), a hard link to a file outside the artifact, a device, FIFO or
    socket, more than max_bytes in all or more than max_files entries end the evaluation with a
    message saying so. `missing` is the message when there is no such file (default: "<name> not found
    in the workspace"). The evaluation reads the copy, never the workspace.
    """
    if "/" in name or name in ("", ".", ".."):
        fail(f"grader error: submitted() takes a name in the workspace, got {name!r}")
    target = os.path.join(_stage(), name)
    if os.path.lexists(target):
        return target
    try:
        root_fd = _workspace_fd()
    except OSError as exc:
        fail(f"grader error: the workspace {workspace()} cannot be opened ({exc.strerror})")
    scratch = tempfile.mkdtemp(prefix=".copy-", dir=_stage())
    try:
        copier = _Copier(root_fd, name, max_bytes, max_files)
        if not copier.copy(root_fd, name, name, os.path.join(scratch, "x"), expected=kind):
            fail(missing or f"{name} not found in the workspace")
        copier.check_links()
        os.rename(os.path.join(scratch, "x"), target)
    except _Refused as exc:
        fail(str(exc))
    finally:
        os.close(root_fd)
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def read_submission_csv(name, max_bytes=64 * MiB):
    """The stripped header and the rows of the workspace's CSV file `name`, or fail saying what is wrong."""
    path = submitted(name, max_bytes=max_bytes)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        fail(f"{name} is not a readable CSV file: {exc}")
    if not header:
        fail(f"{name} is empty")
    return [h.strip() for h in header], rows


def column_values(name, header, rows, column, drop_blank=True):
    """The values of `column` in the submission's rows (blank lines dropped), checking each row's width."""
    if column not in header:
        fail(f"{name} needs a column named {column} (found: {', '.join(header)[:200]})")
    index = header.index(column)
    values = []
    for line, row in enumerate(rows, start=2):
        if not row and drop_blank:
            continue
        if len(row) != len(header):
            fail(f"{name} line {line}: {len(row)} fields, the header has {len(header)}")
        values.append((line, row[index]))
    return values


def read_class_labels(name, expected, classes, column="label"):
    """One class number (0..classes-1, written as an integer or a float) per row of the submission, in order."""
    header, rows = read_submission_csv(name)
    if column not in header:
        fail(f"{name} needs a column named {column} (found: {', '.join(header)[:200]})")
    rows = [row for row in rows if row]
    if len(rows) != expected:
        fail(f"{name} has {len(rows)} rows, expected {expected}: one {column} per test image, in order")
    labels = []
    for line, text in column_values(name, header, rows, column):
        try:
            value = float(text)
        except ValueError:
            fail(f"{name} line {line}: {column} {text!r} is not a number"[:300])
        if not math.isfinite(value) or value != int(value) or not 0 <= value < classes:
            fail(f"{name} line {line}: {column} {text!r} is not a class number 0-{classes - 1}"[:300])
        labels.append(int(value))
    return labels


# -- the grader's own private files ----------------------------------------------------------------

def private_file(name, hint):
    """The path of one of the grader's private files (next to the evaluation script), or a grader error."""
    if not os.path.isfile(name):
        fail(f"grader error: {name} is missing ({hint})")
    return name


def read_private_csv(name, hint):
    """The rows of a private CSV file (answers, labels) as dicts."""
    with open(private_file(name, hint), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_private_jsonl(name, hint):
    """The objects of a private JSON-lines file."""
    with open(private_file(name, hint), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_labels(name, hint, column="label"):
    """[(label, split)] of a private answers CSV with `column` and `split` columns, in file order."""
    return [(int(row[column]), row["split"]) for row in read_private_csv(name, hint)]


# -- the agent's functions, sandboxed --------------------------------------------------------------

@contextlib.contextmanager
def agent_function(filename, function, signature, max_bytes=MiB, copy=None, **limits):
    """The agent's `function` from the workspace's `filename`, started in a sandbox (sandbox.py); any
    failure to start it ends the evaluation with a clear message. Use as a context manager. `copy`: the
    file's path inside an artifact already taken with submitted() (a file in a submitted folder)."""
    path = copy or submitted(filename, max_bytes=max_bytes)
    options = {"call_timeout_s": CALL_TIMEOUT_S, "total_timeout_s": TOTAL_TIMEOUT_S, **limits}
    box = Sandbox(path, function, filename, **options)
    try:
        try:
            box.start()
        except SandboxError as exc:
            if exc.message == "missing":
                fail(f"{filename} does not define a function {function}({signature})")
            fail(exc.message)
        yield box
    finally:
        box.close()


def call_agent(function, *args):
    """Call the agent's sandboxed function; any failure (raise, exit, timeout, bad reply) ends the evaluation."""
    try:
        return function.call(*args)
    except SandboxError as exc:
        fail(exc.message)


def binary_move(move):
    """A 0-or-1 move (an integer, not a bool), or fail saying what the strategy returned."""
    if isinstance(move, bool) or not isinstance(move, numbers.Integral) or move not in (0, 1):
        fail(f"row_strategy must return 0 or 1, returned {move!r}"[:300])
    return int(move)


def play_repeated_game(row_strategy, seed, target, check_move, payoff, view, games=GAMES):
    """Mean payoff per round of the agent's row_strategy over `games` games of ROUNDS rounds against
    target.target_column_strategy, which moves second each round, seeing the same history. `view(history)`
    is what each player gets; `check_move` vets the agent's move. The opponent's randomness is this
    process's `random`, seeded with the split's seed; the agent's process has its own."""
    random.seed(seed)
    total = 0
    for _ in range(games):
        history = []
        for _ in range(ROUNDS):
            mine = check_move(call_agent(row_strategy, view(history)))
            theirs = target.target_column_strategy(view(history))
            total += payoff(mine, theirs)
            history.append((mine, theirs))
    return total / (games * ROUNDS)


def score_repeated_game(target, check_move, payoff, view=list, games=GAMES):
    """The games' evaluation: the agent's row_strategy played with this split's seed; its mean payoff is the Score.
    `games`: MLGym-Bench's count unless a task sets its own (a test fixture's short game)."""
    split()
    seed = int(secret("seed"))
    with agent_function("strategy.py", "row_strategy", "history") as row_strategy:
        row_strategy.seed(AGENT_SEED)
        score = play_repeated_game(row_strategy, seed, target, check_move, payoff, view, games)
    if not math.isfinite(score):
        fail("score is not a finite number")
    report({"Score": round(score, 6)})


if __name__ == "__main__":
    # `python3 grading.py present NAME`: exit 0 if the workspace holds NAME, 1 if not (the grader's first check).
    if len(sys.argv) == 3 and sys.argv[1] == "present":
        sys.exit(0 if present(sys.argv[2]) else 1)
    sys.exit(2)
