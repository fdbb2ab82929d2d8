"""Bounded file and text search for search_dir, search_file and find_file.

Search terms are grep patterns (basic regular expressions, case-sensitive), as MLGym's search_dir and
search_file take them: `def .*train(` and `^import` work as an agent trained on MLGym expects, and a
plain word matches itself. grep does the matching.
"""
import os
import stat
import subprocess

from .cli import ToolError
from .textfile import SNIFF_BYTES

MAX_FILES = 100
MAX_LINES = 200


def check_dir(path):
    if not os.path.isdir(path):
        raise ToolError(f"{path} is not a directory." if os.path.exists(path) else f"{path} does not exist.")


def walk_files(root):
    """Regular files under root in a stable order, skipping hidden directories such as .git."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = os.path.normpath(os.path.join(dirpath, name))
            try:
                if stat.S_ISREG(os.stat(path).st_mode):
                    yield path
            except OSError:
                continue


# Files per grep call of search_dir.
BATCH = 256


def is_text(path):
    """Not binary (no NUL in its first bytes) and readable."""
    try:
        with open(path, "rb") as f:
            return b"\0" not in f.read(SNIFF_BYTES)
    except OSError:
        return False


def _grep(options, pattern, files):
    """Run grep with the pattern over the files; its stdout. A pattern grep cannot use is a ToolError."""
    try:
        done = subprocess.run(["grep", "-a", *options, "-e", pattern, "--", *files], capture_output=True, check=False)
    except OSError as err:
        raise ToolError(f"grep could not run: {err.strerror}.") from None
    if done.returncode > 1:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = message[-1].removeprefix("grep: ") if message else "unknown error"
        raise ToolError(f'grep could not use the pattern "{pattern}": {reason}. Search terms are grep patterns: '
                        "escape . * [ ] ^ $ \\ with a backslash to match them literally.")
    return done.stdout


def matching_lines(path, pattern):
    """(line number, raw line bytes) for each line of a text file that matches the grep pattern."""
    if not is_text(path):
        return []
    out = _grep(["-n"], pattern, [path])
    hits = []
    for line in out.split(b"\n"):
        number, sep, text = line.partition(b":")
        if sep and number.isdigit():
            hits.append((int(number), text))
    return hits


def matching_counts(paths, pattern):
    """(path, number of matching lines) for each text file among paths with at least one match, in order."""
    texts = [p for p in paths if is_text(p)]
    counts = {}
    for i in range(0, len(texts), BATCH):
        out = _grep(["-c", "-H", "-Z"], pattern, texts[i:i + BATCH])
        for line in out.split(b"\n"):
            name, sep, count = line.rpartition(b"\0")
            if sep and count.strip().isdigit() and int(count):
                counts[os.fsdecode(name)] = int(count)
    return [(p, counts[p]) for p in texts if p in counts]


def search_term(term):
    if not term:
        raise ToolError("the search term is empty.")
    return term


def not_shown(count, unit, how):
    return f"({count} more {unit} not shown. Too many matches: narrow the search with {how}.)"
