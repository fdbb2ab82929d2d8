"""The numbered window onto the open file that open/goto/scroll_*/create/edit/insert print."""
from . import state
from .textfile import count_lines, read_lines

WINDOW = 100
MAX_LINE_CHARS = 1000


def numbered(lines, first):
    return [f"{n}:{shorten(text)}" for n, text in enumerate(lines, first)]


def shorten(text):
    if len(text) <= MAX_LINE_CHARS:
        return text
    return text[:MAX_LINE_CHARS] + f" ... [{len(text) - MAX_LINE_CHARS} more characters on this line]"


def show(path, first):
    """Print the window starting at `first` (kept inside the file) and remember it as the current view."""
    total = count_lines(path)
    first = max(1, min(first, total - WINDOW + 1))
    lines = read_lines(path, first, WINDOW)
    state.save(path, first)
    out = [f"[File: {path} ({total} lines total)]"]
    if total == 0:
        out.append("(the file is empty)")
    if first > 1:
        out.append(f"({first - 1} more lines above)")
    out += numbered(lines, first)
    below = total - (first + len(lines) - 1)
    if below > 0:
        out.append(f"({below} more lines below)")
    print("\n".join(out))


def show_around(path, line):
    """Show the window with `line` in its middle; a line past the end shows the end, with a warning."""
    total = count_lines(path)
    if line > max(total, 1):
        print(f"Warning: line {line} is past the end of the file ({total} lines); showing the end.")
        line = total
    show(path, line - WINDOW // 2)
