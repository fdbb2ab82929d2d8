"""Tool state that outlives one command (each command runs in a fresh bash): the open file and window."""
import json
import os

from .cli import ToolError

STATE_FILE = os.path.join(os.path.expanduser("~"), ".mlgym", "tool_state.json")


def load():
    try:
        with open(STATE_FILE) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def save(open_file, first_line, shown_lines=None):
    os.makedirs(os.path.dirname(STATE_FILE), exist_ok=True)
    tmp = STATE_FILE + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"open_file": open_file, "first_line": first_line, "shown_lines": shown_lines}, f)
    os.replace(tmp, STATE_FILE)


def open_file():
    """The open file and its window's first line, or a ToolError telling the agent to open one."""
    state = load()
    path = state.get("open_file")
    if not path:
        raise ToolError("no file is open. Use `open <path>` first.")
    if not os.path.exists(path):
        raise ToolError(f"the open file {path} no longer exists. Open another file with `open <path>`.")
    return path, int(state.get("first_line", 1))


def open_window():
    """The open file, its window's first line and how many lines the window showed (None if not recorded)."""
    path, first = open_file()
    shown = load().get("shown_lines")
    return path, first, shown if isinstance(shown, int) and shown > 0 else None
