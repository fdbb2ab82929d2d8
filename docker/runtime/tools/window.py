"""The numbered window onto the open file that open/goto/scroll_*/create/edit/insert print.

As in MLGym (its default agent config): a window of WINDOW lines (1000 unless the environment
variable WINDOW says otherwise), and scrolling keeps OVERLAP lines (2) of the previous window. A window
is also cut to fit MAX_WINDOW_CHARS, so that it is never truncated as an observation; the lines it
could not show are counted as "more lines above/below", and scrolling goes on from the last line shown.
"""
import os

from . import state
from .textfile import count_lines, read_lines


def _setting(name, default, least):
    try:
        return max(least, int(os.environ.get(name, default)))
    except ValueError:
        return default


WINDOW = _setting("WINDOW", 1000, 1)
OVERLAP = _setting("OVERLAP", 2, 0)
MAX_LINE_CHARS = 1000
# An observation holds 20,000 characters (activities/toolExec.ts); the header and counts fit in the rest.
MAX_WINDOW_CHARS = 18_000


def numbered(lines, first):
    return [f"{n}:{shorten(text)}" for n, text in enumerate(lines, first)]


def shorten(text):
    if len(text) <= MAX_LINE_CHARS:
        return text
    return text[:MAX_LINE_CHARS] + f" ... [{len(text) - MAX_LINE_CHARS} more characters on this line]"


def _cost(n, text):
    return len(f"{n}:{shorten(text)}") + 1


def _render(path, total, first, lines):
    state.save(path, first, len(lines))
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


def _fit_forward(path, first):
    lines, used = [], 0
    for n, text in enumerate(read_lines(path, first, WINDOW), first):
        used += _cost(n, text)
        if lines and used > MAX_WINDOW_CHARS:
            break
        lines.append(text)
    return lines


def show(path, first):
    """Print the window starting at `first` (kept inside the file) and remember it as the current view."""
    total = count_lines(path)
    first = max(1, min(first, total))
    lines = _fit_forward(path, first)
    if first > 1 and first + len(lines) - 1 >= total:
        # It reaches the end: show the end with as many lines above as fit, as a full window.
        show_ending_at(path, total)
        return
    _render(path, total, first, lines)


def show_ending_at(path, last):
    """Print the window whose last line is `last`, with as many lines before it as fit: scrolling up."""
    total = count_lines(path)
    last = max(1, min(last, total))
    start = max(1, last - WINDOW + 1)
    kept, used = [], 0
    for n, text in zip(range(last, start - 1, -1), reversed(read_lines(path, start, last - start + 1))):
        used += _cost(n, text)
        if kept and used > MAX_WINDOW_CHARS:
            break
        kept.append(text)
    kept.reverse()
    first = last - len(kept) + 1
    if first == 1 and last < total:
        # At the top: fill the window downwards, as from the top.
        _render(path, total, 1, _fit_forward(path, 1))
        return
    _render(path, total, first, kept)


def show_centered(path, line):
    """Print the window with `line` in its middle (as far as the file and the size limit allow)."""
    total = count_lines(path)
    line = max(1, min(line, total))
    # Near either end of the file the window fills up from the other side.
    start = max(1, line - WINDOW + 1)
    texts = dict(enumerate(read_lines(path, start, 2 * WINDOW - 1), start))
    if line not in texts:
        _render(path, total, 1, [])
        return
    lo = hi = line
    used = _cost(line, texts[line])
    grew = True
    # Grow around `line`, a line below then a line above, while the window has room.
    while grew:
        grew = False
        for candidate in (hi + 1, lo - 1):
            if hi - lo + 1 >= WINDOW or candidate not in texts:
                continue
            cost = _cost(candidate, texts[candidate])
            if used + cost > MAX_WINDOW_CHARS:
                continue
            used += cost
            lo, hi = min(lo, candidate), max(hi, candidate)
            grew = True
    _render(path, total, lo, [texts[n] for n in range(lo, hi + 1)])


def show_around(path, line):
    """Show the window with `line` in its middle; a line past the end shows the end, with a warning."""
    total = count_lines(path)
    if line > max(total, 1):
        print(f"Warning: line {line} is past the end of the file ({total} lines); showing the end.")
        line = total
    show_centered(path, line)


def scroll_down():
    path, first, shown = state.open_window()
    show(path, first + max(1, (shown or WINDOW) - OVERLAP))


def scroll_up():
    path, first, _ = state.open_window()
    show_ending_at(path, first - 1 + OVERLAP)
