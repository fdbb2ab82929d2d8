"""Plumbing shared by the tool commands in ../bin: output encoding, errors, argument parsing."""
import os
import sys


class ToolError(Exception):
    """A problem the agent should read: printed as is, exit status 1."""


def run(main):
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    try:
        main(sys.argv[1:])
    except ToolError as err:
        print(f"Error: {err}")
        sys.exit(1)
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped early: not an error; keep the exit-time flush quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def counted(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def line_number(text, what="line number"):
    try:
        value = int(text)
    except ValueError:
        raise ToolError(f"{what} must be a whole number, got {text!r}.") from None
    if value < 0:
        raise ToolError(f"{what} must not be negative, got {value}.")
    return value


def expect_args(args, command, at_least, at_most):
    if not at_least <= len(args) <= at_most:
        raise ToolError(f"`{command}` got {len(args)} argument(s); see its usage in the command list. "
                        "Quote arguments that contain spaces.")
