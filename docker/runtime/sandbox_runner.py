"""The agent's side of a sandboxed call: imports one submitted Python file and calls one function in it.

Started by sandbox.py (the evaluator's side) as `python3 -I sandbox_runner.py FILE FUNCTION`, under the
sandbox's own unprivileged user, with a cleared environment, in a folder holding nothing but a copy of
FILE. Nothing here is trusted once the agent's code is imported: the evaluator treats every reply as
the agent's, checks it, and never unpickles or unmarshals anything this process sends.

Protocol. Requests arrive on fd 0 as frames: a 4-byte little-endian length, then a marshal of
(op, payload) built by the evaluator (marshal is safe here: the evaluator is the trusted side).
  ("call", args)   call FUNCTION(*args) and reply
  ("seed", n)      random.seed(n), no reply
Replies leave on fd 1 as JSON lines:
  {"ready": true}                                    the module imported and defines FUNCTION
  {"import_raised": [type, message]}                 importing FILE raised (or exited)
  {"missing": true}                                  FILE does not define a callable FUNCTION
  {"ok": value}                                      the call returned (value made plain data, below)
  {"raised": [type, message]}                        the call raised (or exited)
Plain data: None, bools, ints, floats (NaN and infinities as JSON's extensions), strings, and lists
of them; numbers of other types (numpy's) become ints or floats; anything else becomes
{"__opaque__": repr}, which the evaluator shows but never accepts as a valid answer. The agent's own
prints go to /dev/null: fd 1 is not the reply channel once this file has set up.
"""
import importlib.util
import json
import marshal
import numbers
import os
import random
import resource
import sys

MESSAGE_CHARS = 1000
MAX_ITEMS = 100_000
MAX_DEPTH = 20


def limit(name, value):
    """Lower a resource limit (soft and hard) to `value`, if given."""
    if value is None:
        return
    kind = getattr(resource, name)
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def apply_limits():
    """The limits the evaluator asked for (environment MLGYM_SANDBOX_LIMITS: NAME=value,...)."""
    for item in filter(None, os.environ.get("MLGYM_SANDBOX_LIMITS", "").split(",")):
        name, _, value = item.partition("=")
        if name == "RLIMIT_CPU":
            # SIGXCPU at the limit, SIGKILL a second later.
            resource.setrlimit(resource.RLIMIT_CPU, (int(value), int(value) + 1))
        else:
            limit(name, int(value))


def text(exc):
    return [type(exc).__name__, str(exc)[:MESSAGE_CHARS]]


def plain(value, depth=0):
    """The value as JSON-able plain data (see the module's docstring)."""
    if value is None or isinstance(value, (bool, str)):
        return value[:MAX_ITEMS] if isinstance(value, str) else value
    if isinstance(value, numbers.Integral):
        value = int(value)
        return value if abs(value) < 10 ** 300 else {"__opaque__": "a very large integer"}
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return [plain(v, depth + 1) for v in value]
    try:
        shown = repr(value)[:300]
    except BaseException:  # the agent's __repr__ may raise anything
        shown = f"<a {type(value).__name__} object>"
    return {"__opaque__": shown}


class Channel:
    def __init__(self, requests, replies):
        self.requests, self.replies = requests, replies
        self.buffer = b""

    def send(self, message):
        data = (json.dumps(message) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.replies, view):]

    def read(self, n):
        while len(self.buffer) < n:
            chunk = os.read(self.requests, max(65536, n - len(self.buffer)))
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self):
        size = int.from_bytes(self.read(4), "little")
        return marshal.loads(self.read(size))


def main():
    path, function_name = sys.argv[1], sys.argv[2]
    apply_limits()
    # Keep the pipes on private descriptors; the agent's code sees /dev/null on 0, 1 and 2.
    channel = Channel(os.dup(0), os.dup(1))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.argv = [os.path.basename(path)]
    sys.path.insert(0, os.path.dirname(path))

    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # the agent's code may raise anything, or exit
        channel.send({"import_raised": text(exc)})
        return
    function = getattr(module, function_name, None)
    if not callable(function):
        channel.send({"missing": True})
        return
    channel.send({"ready": True})

    while True:
        try:
            op, payload = channel.receive()
        except EOFError:
            return
        if op == "seed":
            random.seed(payload)
            continue
        try:
            result = function(*payload)
        except BaseException as exc:
            channel.send({"raised": text(exc)})
            continue
        try:
            channel.send({"ok": plain(result)})
        except (ValueError, OverflowError, RecursionError) as exc:
            channel.send({"ok": {"__opaque__": f"a value that cannot be sent back ({type(exc).__name__})"}})


if __name__ == "__main__":
    main()
