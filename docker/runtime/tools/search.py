"""Bounded file and text search for search_dir, search_file and find_file."""
import os
import stat

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


def matching_lines(path, needle):
    """(line number, raw line) for each line containing needle; none for binary or unreadable files."""
    try:
        with open(path, "rb") as f:
            if b"\0" in f.read(SNIFF_BYTES):
                return
            f.seek(0)
            for number, line in enumerate(f, 1):
                if needle in line:
                    yield number, line
    except OSError:
        return


def search_term(term):
    if not term:
        raise ToolError("the search term is empty.")
    return term.encode("utf-8", "surrogateescape")


def not_shown(count, unit, how):
    return f"({count} more {unit} not shown. Too many matches: narrow the search with {how}.)"
