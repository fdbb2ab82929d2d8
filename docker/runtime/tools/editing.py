"""The shared core of `edit` and `insert`: replace a range of the open file's lines, checked first."""
import os
import sys

from . import state, window
from .cli import ToolError
from .pycheck import check_edit
from .textfile import EditableFile, check_text_file, joined, without_eol

CONTEXT = 3
# Lines of an excerpt shown when an edit is refused (the proposed file and the original, each).
EXCERPT_LINES = 100


def read_body(command, marker):
    """The new lines from stdin, which must end with the marker line (the host passes them in a heredoc)."""
    lines = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\n")
    if lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines or lines[-1].strip() != marker:
        raise ToolError(f"`{command}` needs its new lines: write them after the `{command}` line "
                        f"and end them with a line containing only `{marker}`.")
    return lines[:-1]


def writable_open_file():
    path, _ = state.open_file()
    check_text_file(path)
    if not os.access(path, os.W_OK):
        raise ToolError(f"{path} is read-only and cannot be edited. Copy it to a file you own "
                        f"(e.g. `cp {path} <new name>`) and edit the copy.")
    return EditableFile(path)


def excerpt(lines, first, last, title):
    """Lines first..last (1-based) with some context around them, numbered."""
    lo = max(1, first - CONTEXT)
    hi = min(len(lines), max(last, first - 1) + CONTEXT, lo + EXCERPT_LINES - 1)
    shown = [without_eol(line) for line in lines[lo - 1:hi]]
    return [f"{title} (lines {lo}-{hi}):"] + window.numbered(shown, lo) if shown else [f"{title}: (no lines)"]


def apply(file, start, end, new_lines, summary):
    """Replace lines start..end (end = start - 1 inserts) unless that breaks a Python file."""
    proposed = file.replaced(start, end, new_lines)
    note = None
    if file.path.endswith(".py"):
        problems, note = check_edit(joined(file.lines), joined(proposed), file.path)
        if problems:
            raise ToolError("\n".join(
                [f"your change was NOT applied: it would introduce these problems into {file.path}:"]
                + [f"- {p}" for p in problems]
                + [""] + excerpt(proposed, start, start + len(new_lines) - 1, "How the file would look")
                + [""] + excerpt(file.lines, start, end, "The original, unchanged")
                + ["", "Fix the new lines (or the line range) and send the command again."]))
    file.write(proposed)
    print(summary)
    if note:
        print(note)
    window.show_centered(file.path, start)
