#!/usr/bin/env python3
"""In-container command session for Durable MLGym (stdlib only).

Each command runs under an idempotency key. The first request for a key starts its command detached
(its own session and process group) and records its output and exit status under ~/.mlgym/cmds/KEY;
any later request for that key re-attaches: it waits for the running command or returns the recorded
result, and never starts it twice. The shell's working directory and exported variables persist from
one command to the next, as in a terminal.

One request format for both transports (lib/sandbox/sessionProtocol.ts holds its zod schemas), one
JSON object per line:

  {"id": N, "key": KEY, "command": TEXT, "timeout_s": S, "wait_s": S, "cap": CHARS}

  session.py run     request line(s) on stdin; one reply line per request on stdout, then exit
                     (one `docker exec` per request: the fallback transport)
  session.py serve   the same over a long-lived stream: request lines on stdin, reply lines on stdout,
                     {"hello": {"pid", "boot"}} first
  session.py sweep   kill every process that outlived its command; prints {"stopped": N, "left": N}
                     (the worker calls it when no command of the run is awaited)

A reply carries the request's id and is one of
  {"id", "key", "state": "running", "started", "output_file"}
  {"id", "key", "state": "done", "started", "output_file", "exit_code", "timed_out", "lost",
   "duration_s", "output", "output_chars", "truncated", "cwd", "open_file"}
  {"id", "error"}   the request was refused (id null when it could not be read)

Both subcommands go through the same code (`pump`): the key directory, the runner fork, the waiting.
`serve` is only a transport: one long-lived process per container that the worker keeps an attached
stream to, so a command costs no `docker exec` and no interpreter start-up. It holds no state of its
own, and it exits when its stdin closes (the worker died or dropped the stream) while the commands it
started keep running; `run` answers every request it read before it exits.
"""
import errno
import json
import math
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time

HOME = os.path.expanduser("~")
STATE_DIR = os.path.join(HOME, ".mlgym")
CMDS = os.path.join(STATE_DIR, "cmds")
SHELL_STATE = os.path.join(STATE_DIR, "shell_state.sh")
STARTS_LOG = os.path.join(STATE_DIR, "starts.log")
WORKSPACE = os.path.join(HOME, "workspace")

# Runs the command in bash, then saves cwd and exported variables for the next command,
# also when the command calls `exit`.
WRAPPER = r"""
__mlgym_save_state() {
  { export -p | grep -vE '^declare -[a-zA-Z]*r|^declare -x (PWD|OLDPWD|SHLVL|_|BASHOPTS|SHELLOPTS|BASH_[A-Z_]*|MLGYM_[A-Z_]*)(=|$)'
    printf 'cd %q\n' "$PWD"; } > "$MLGYM_STATE_FILE.$$.tmp" 2>/dev/null && mv -f "$MLGYM_STATE_FILE.$$.tmp" "$MLGYM_STATE_FILE"
}
trap __mlgym_save_state EXIT
cd "$MLGYM_WORKSPACE" 2>/dev/null
[ -f "$MLGYM_STATE_FILE" ] && . "$MLGYM_STATE_FILE" >/dev/null 2>&1
. "$MLGYM_CMD_FILE"
"""


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def read_json(path):
    """A JSON object from a file; None when there is none (missing, unreadable or not an object: the
    agent can write these files)."""
    try:
        with open(path) as f:
            value = json.load(f)
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def processes():
    """(pid, ppid, sid) of every live (not zombie) process in the container."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                state, ppid, _pgrp, sid = f.read().rsplit(")", 1)[1].split()[:4]
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
            continue
        if state != "Z":
            found.append((int(pid), int(ppid), int(sid)))
    return found


def session_members(sid):
    return [pid for pid, _, s in processes() if s == sid]


def strays():
    """Processes outside every session the engine started. The container's init and each `docker exec`
    have no parent inside the container (ppid 0) and lead their own session; a command runs in a session
    of its own and is killed with it when it ends, so a process in any other session is one that left its
    command's session (`setsid`, a daemon) or the runner of a command that is no longer awaited."""
    table = processes()
    engine_sessions = {sid for _, ppid, sid in table if ppid == 0}
    return [pid for pid, _, sid in table if sid not in engine_sessions]


def kill_until_gone(members):
    """SIGKILL every process `members()` lists, again until it lists none (a fork bomb forks while it is
    being killed), for at most 5 seconds. Returns the processes killed and those still left."""
    killed = set()
    deadline = time.time() + 5
    while True:
        found = members()
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except (ProcessLookupError, PermissionError):
                pass
        if not found or time.time() > deadline:
            return killed, found
        time.sleep(0.01)


def kill_session(sid):
    """Kill every process in the command's session, including ones that left its process group."""
    try:
        os.killpg(sid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    kill_until_gone(lambda: session_members(sid))


def sweep():
    """Stop whatever outlived its command (see strays): between steps nothing of the agent's runs, so no
    work goes on past a command's time limit or changes the workspace while it is saved and graded."""
    killed, left = kill_until_gone(strays)
    send({"stopped": len(killed), "left": len(left)})


def container_boot():
    """Start time of the container's PID 1: changes when the container restarts."""
    with open("/proc/1/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def record_not_started(cmd_dir, err):
    """No process to run the command in (e.g. the pids limit is reached): record that as its result, so
    no caller waits for a runner that never ran it."""
    with open(os.path.join(cmd_dir, "output.log"), "w") as f:
        f.write(f"could not start the command: {err}\n")
        pids_max = Limits().pids_max()
        if getattr(err, "errno", None) == errno.EAGAIN and pids_max:
            f.write(f"\nPROCESS LIMIT: the container is at its process limit of {pids_max}; the command was not started.\n")
    write_json(os.path.join(cmd_dir, "result.json"), {"exit_code": 126, "timed_out": False, "duration_s": 0})


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


class Limits:
    """The container's limits and their counters, from its cgroup (v2: one folder; v1: one per controller).
    A counter that cannot be read is None: nothing is reported from it."""

    def __init__(self, root="/sys/fs/cgroup"):
        self.root = root

    def _first(self, *names):
        for name in names:
            text = read_text(os.path.join(self.root, name))
            if text is not None:
                return text
        return None

    def _field(self, text, name):
        for line in (text or "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == name and parts[1].isdigit():
                return int(parts[1])
        return None

    def _number(self, text):
        text = (text or "").strip()
        return int(text) if text.isdigit() else None

    def pids_hits(self):
        """How often a fork or clone failed at the pids limit."""
        return self._field(self._first("pids.events", "pids/pids.events"), "max")

    def pids_max(self):
        return self._number(self._first("pids.max", "pids/pids.max"))

    def oom_kills(self):
        """Processes the OOM killer has killed in the container."""
        return self._field(self._first("memory.events", "memory/memory.oom_control"), "oom_kill")

    def memory_mb(self):
        limit = self._number(self._first("memory.max", "memory/memory.limit_in_bytes"))
        return None if limit is None or limit >= 1 << 60 else limit // (1024 * 1024)


def workspace_space():
    """(free bytes for the agent, size) of the workspace's filesystem; None if it cannot be read."""
    try:
        st = os.statvfs(WORKSPACE)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize


def disk_full(space):
    free, size = space
    return free < max(64 << 20, size // 100)


def prefer_as_oom_victim():
    """In the command's process (before exec): when memory runs out, the OOM killer takes the command's
    processes before the session's own."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("500")
    except OSError:
        pass


# How often the runner checks on its command; how long a command may go on after it hit the pids limit.
POLL_S = 0.2
PIDS_GRACE_S = 1.0


def limit_notes(limits, before, stopped_at_pids, exit_code, space):
    """Lines for the agent when its command hit the process, memory or disk limit."""
    notes = []
    pids_before, oom_before = before
    pids_max = limits.pids_max()
    if stopped_at_pids:
        notes.append(f"PROCESS LIMIT: the command hit the process limit of {pids_max} and was stopped (all its processes were killed).")
    elif pids_before is not None and (limits.pids_hits() or 0) > pids_before:
        notes.append(f"PROCESS LIMIT: the command hit the process limit of {pids_max}: some of its processes or threads could not be started.")
    if oom_before is not None and (limits.oom_kills() or 0) > oom_before:
        memory = limits.memory_mb()
        at = f" at {memory} MB" if memory else ""
        who = "the command was" if exit_code in (137, -signal.SIGKILL) else "a process of the command was"
        notes.append(f"OUT OF MEMORY: {who} killed by the out-of-memory killer{at} (the container's memory limit).")
    # The workspace is full now, or filled up during the command (which may have deleted what it wrote).
    start, lowest, end = space
    if end is not None and (disk_full(end) or (lowest is not None and disk_full(lowest) and (start is None or lowest[0] < start[0]))):
        free, size = end if disk_full(end) else lowest
        state = f"is at its disk quota of {size / 1e9:.1f} GB ({free / 1e6:.0f} MB left)" if disk_full(end) else \
            f"reached its disk quota of {size / 1e9:.1f} GB during the command"
        notes.append(f"DISK FULL: the workspace {state}; writes beyond it fail with \"No space left on device\". "
                     "Delete files to free space.")
    return notes


def execute(key, timeout):
    """The detached runner: run the command, enforce the timeout, stop it fast when it hits the process
    limit, note the limits it hit, record the result."""
    cmd_dir = os.path.join(CMDS, key)
    env = dict(os.environ, MLGYM_STATE_FILE=SHELL_STATE, MLGYM_WORKSPACE=WORKSPACE,
               MLGYM_CMD_FILE=os.path.join(cmd_dir, "command.sh"))
    limits = Limits()
    before = (limits.pids_hits(), limits.oom_kills())
    started = time.time()
    with open(os.path.join(cmd_dir, "output.log"), "wb") as out:
        try:
            proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-c", WRAPPER], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                    preexec_fn=prefer_as_oom_victim)
        except OSError as err:
            out.close()
            record_not_started(cmd_dir, err)
            return
        write_json(os.path.join(cmd_dir, "pid.json"), {"runner": os.getpid(), "shell": proc.pid, "boot": container_boot()})
        timed_out = stopped_at_pids = False
        pids_hit_at, pids_seen = None, before[0]
        start_space = min_space = workspace_space()
        while True:
            try:
                exit_code = proc.wait(timeout=max(0.0, min(POLL_S, started + timeout - time.time())))
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.time()
            space = workspace_space()
            if space is not None and (min_space is None or space[0] < min_space[0]):
                min_space = space
            # Stopped when it keeps hitting the pids limit for PIDS_GRACE_S (a fork bomb hits it thousands
            # of times a second); one that hit it once and goes on (a build that forked too much) goes on.
            hits = limits.pids_hits()
            if pids_hit_at is None and hits is not None and pids_seen is not None and hits > pids_seen:
                pids_hit_at, pids_seen = now, hits
            elif pids_hit_at is not None and now - pids_hit_at >= PIDS_GRACE_S:
                stopped_at_pids = hits is not None and hits > pids_seen
                pids_hit_at, pids_seen = None, hits
            timed_out = now >= started + timeout
            if timed_out or stopped_at_pids:
                kill_session(proc.pid)
                exit_code = proc.wait()
                break
        kill_session(proc.pid)  # background children left behind by the command
        end_space = workspace_space()
        if end_space is not None and (min_space is None or end_space[0] < min_space[0]):
            min_space = end_space
        notes = limit_notes(limits, before, stopped_at_pids, exit_code, (start_space, min_space, end_space))
        if notes:
            out.seek(0, os.SEEK_END)
            out.write(("\n" + "\n".join(notes) + "\n").encode())
    write_json(os.path.join(cmd_dir, "result.json"),
               {"exit_code": exit_code, "timed_out": timed_out, "duration_s": round(time.time() - started, 3)})


def start(key, timeout, command):
    """Start the command's runner, detached; returns the read end of a pipe that closes when the runner
    exits, or None when the key had already been started (or no runner could be started; then its
    result is already recorded)."""
    cmd_dir = os.path.join(CMDS, key)
    try:
        os.makedirs(cmd_dir)
    except FileExistsError:
        return None
    with open(os.path.join(cmd_dir, "command.sh"), "w") as f:
        f.write(command)
    with open(STARTS_LOG, "a") as f:
        f.write(key + "\n")
    done_r = done_w = None
    try:
        done_r, done_w = os.pipe()
        pid = os.fork()
    except OSError as err:
        for fd in (done_r, done_w):
            if fd is not None:
                os.close(fd)
        record_not_started(cmd_dir, err)
        return None
    if pid == 0:
        # The runner is a fork (no second interpreter start-up) in its own session, holding none of
        # the exec's streams, so the exec ends as soon as this process has reported.
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            # Nothing else the reporting process holds: in `serve`, that is other commands' pipes.
            os.closerange(3, done_w)
            os.closerange(done_w + 1, os.sysconf("SC_OPEN_MAX"))
            execute(key, timeout)
        finally:
            os._exit(0)
    os.close(done_w)
    return done_r


def runner_alive(cmd_dir):
    pids = read_json(os.path.join(cmd_dir, "pid.json"))
    if pids is None:
        return True  # the runner has not written its pid yet
    if pids.get("boot") != container_boot():
        return False  # the container restarted: the runner died with it
    runner = pids.get("runner")
    if not isinstance(runner, int) or isinstance(runner, bool) or runner <= 0:
        return False  # not a pid this session wrote
    try:
        os.kill(runner, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False  # gone (a PermissionError: its pid now belongs to someone else's process)


def shell_position():
    """The working directory the next command starts in and the file the tools have open."""
    cwd = WORKSPACE
    try:
        with open(SHELL_STATE) as f:
            lines = [line for line in f if line.startswith("cd ")]
        if lines:
            cwd = shlex.split(lines[-1][3:])[0]
    except (FileNotFoundError, ValueError, IndexError):
        pass
    open_file = (read_json(os.path.join(STATE_DIR, "tool_state.json")) or {}).get("open_file")
    # The tools write this file, and so can the agent: relay only what the protocol allows.
    return {"cwd": cwd, "open_file": open_file if isinstance(open_file, str) else None}


def capped(text, cap):
    if len(text) <= cap:
        return text
    head = cap // 5
    tail = cap - head
    return text[:head] + f"\n... [{len(text) - cap} characters omitted] ...\n" + text[-tail:]


def poll(key):
    """The command's recorded result; a lost one if its runner died without recording one; else None."""
    cmd_dir = os.path.join(CMDS, key)
    result_path = os.path.join(cmd_dir, "result.json")
    result = read_json(result_path)
    if result is None and not runner_alive(cmd_dir):
        result = read_json(result_path) or {"exit_code": None, "timed_out": False, "lost": True}
    return result


def reply(request_id, key, result, started, cap):
    """The reply to a request: its command still running, or done with its (capped) output. The
    recorded result's fields are relayed as they are; the worker checks them."""
    output_file = os.path.join(CMDS, key, "output.log")
    message = {"id": request_id, "key": key, "started": started, "output_file": output_file}
    if result is None:
        return dict(message, state="running")
    with open(output_file, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8", errors="replace")
    return dict(message, state="done", exit_code=result.get("exit_code"), timed_out=result.get("timed_out"),
                lost=result.get("lost", False), duration_s=result.get("duration_s"), output=capped(text, cap),
                output_chars=len(text), truncated=len(text) > cap, **shell_position())


# The request format (lib/sandbox/sessionProtocol.ts has the same rules as a zod schema).
REQUEST_FIELDS = ("id", "key", "command", "timeout_s", "wait_s", "cap")
KEY_PATTERN = re.compile(r"[A-Za-z0-9._-]*[A-Za-z0-9][A-Za-z0-9._-]*")  # a directory name, never . or ..
MAX_KEY_LENGTH = 200


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return (is_int(value) or isinstance(value, float)) and math.isfinite(value)


def parse_request(line):
    """(request, None) for a valid request line, else (None, the error reply to send)."""
    try:
        req = json.loads(line)
    except (ValueError, UnicodeDecodeError) as err:
        return None, {"id": None, "error": f"bad request: not JSON ({err})"}
    if not isinstance(req, dict):
        return None, {"id": None, "error": f"bad request: not a JSON object but {type(req).__name__}"}
    request_id = req.get("id")
    if not is_int(request_id) or request_id < 0:
        return None, {"id": None, "error": f"bad request: id: expected a non-negative integer, got {request_id!r}"}
    problems = [f"{name}: missing" for name in REQUEST_FIELDS if name not in req]
    problems += [f"{name}: unknown field" for name in req if name not in REQUEST_FIELDS]
    key = req.get("key")
    if "key" in req and not (isinstance(key, str) and len(key) <= MAX_KEY_LENGTH and KEY_PATTERN.fullmatch(key)):
        problems.append(f"key: invalid key {key!r} (letters, digits, '.', '_', '-'; at most {MAX_KEY_LENGTH})")
    if "command" in req and not isinstance(req["command"], str):
        problems.append("command: expected a string")
    if "timeout_s" in req and not (is_number(req["timeout_s"]) and req["timeout_s"] > 0):
        problems.append(f"timeout_s: expected a positive number, got {req['timeout_s']!r}")
    if "wait_s" in req and not (is_number(req["wait_s"]) and req["wait_s"] >= 0):
        problems.append(f"wait_s: expected a non-negative number, got {req['wait_s']!r}")
    if "cap" in req and not (is_int(req["cap"]) and req["cap"] > 0):
        problems.append(f"cap: expected a positive integer, got {req['cap']!r}")
    if problems:
        return None, {"id": request_id, "error": "bad request: " + "; ".join(problems)}
    return req, None


class Waiting:
    """A request waiting for its command: until its result is there or wait_s has passed."""

    def __init__(self, request_id, key, done, wait_s, cap):
        self.id, self.key, self.done, self.cap = request_id, key, done, cap
        self.started = done is not None
        self.deadline = time.time() + wait_s


def reap_children():
    """Collect runners that exited (they are this process's children while it lives)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def send(message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(1, data):]


def accept(line, waiting):
    """Start (or re-attach to) the command of one request line and add it to `waiting`; a request that
    is not valid is answered with an error at once."""
    req, error = parse_request(line)
    if error is not None:
        send(error)
        return
    key = req["key"]
    done = None if os.path.isdir(os.path.join(CMDS, key)) else start(key, float(req["timeout_s"]), req["command"])
    waiting.append(Waiting(req["id"], key, done, float(req["wait_s"]), req["cap"]))


def pump(leave_at_eof):
    """Read request lines on stdin and answer each as soon as its command has a result or its wait is
    over. At the end of stdin: with `leave_at_eof` (serve: the worker is gone, nobody reads the replies)
    return at once; else (run) read a last unterminated line and return once every request is answered.
    The commands started go on either way and are recorded as usual."""
    waiting = []
    buffered = b""
    reading = True
    while True:
        reap_children()
        now = time.time()
        for w in list(waiting):
            result = poll(w.key)
            # A command started here is done once its runner has exited too (its pipe closed), so that
            # nothing of it is left when the worker next sweeps the container.
            if (result is None or w.done is not None) and now < w.deadline:
                continue
            waiting.remove(w)
            if w.done is not None:
                os.close(w.done)
            send(reply(w.id, w.key, result, w.started, w.cap))
        if not reading and not waiting:
            return
        pipes = [w.done for w in waiting if w.done is not None]
        timeout = None
        if waiting:
            timeout = max(0.0, min(w.deadline for w in waiting) - time.time())
            if any(w.done is None for w in waiting):
                timeout = min(timeout, 0.02)  # re-attached: nothing to wait on, poll the result file
        readable = select.select(([0] if reading else []) + pipes, [], [], timeout)[0]
        for w in waiting:
            if w.done in readable:
                os.close(w.done)
                w.done = None  # its runner exited; the next poll reads the result (or finds it lost)
        if reading and 0 in readable:
            chunk = os.read(0, 65536)
            if not chunk:
                if leave_at_eof:
                    return
                reading = False
                chunk, buffered = buffered + b"\n", b""
            *lines, buffered = (buffered + chunk).split(b"\n")
            for line in lines:
                if line.strip():
                    accept(line, waiting)


USAGE = "usage: session.py run < request lines | session.py serve | session.py sweep   (a request is one JSON object a line)"


def main(argv):
    if argv not in (["run"], ["serve"], ["sweep"]):
        sys.exit(USAGE)
    if argv == ["sweep"]:
        return sweep()
    os.makedirs(CMDS, exist_ok=True)
    try:
        if argv == ["serve"]:
            send({"hello": {"pid": os.getpid(), "boot": container_boot()}})
        pump(leave_at_eof=argv == ["serve"])
    except BrokenPipeError:
        pass  # the stream is gone; nothing to tell


if __name__ == "__main__":
    main(sys.argv[1:])
