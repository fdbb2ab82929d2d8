#!/usr/bin/env python3
"""In-container command session for Durable MLGym (stdlib only).

Each command runs under an idempotency key. The first `run KEY` starts it detached (its own
session and process group) and records its output and exit status under ~/.mlgym/cmds/KEY; any
later `run KEY` re-attaches: it waits for the running command or returns the recorded result,
and never starts it twice. The shell's working directory and exported variables persist from one
command to the next, as in a terminal.

  session.py run KEY TIMEOUT_S WAIT_S [CAP_CHARS] < command   -> one JSON line on stdout
  session.py serve   -> the same for many requests: JSON lines on stdin, JSON lines on stdout

`serve` is only a transport: one long-lived process per container that the worker keeps an attached
stream to, so a command costs no `docker exec` and no interpreter start-up. Every request goes
through the same key directory as `run`; the process holds no state of its own, and it exits when its
stdin closes (the worker died or dropped the stream) while the commands it started keep running.
A request is {"id", "key", "command", "timeout_s", "wait_s", "cap"}; the reply is `run`'s JSON plus
"id" (or {"id", "error"}). The first line it writes is {"hello": {"pid", "boot"}}.
"""
import json
import os
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
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def kill_session(sid):
    """Kill every process in the command's session, including ones that left its process group."""
    try:
        os.killpg(sid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getsid(int(pid)) == sid:
                os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def container_boot():
    """Start time of the container's PID 1: changes when the container restarts."""
    with open("/proc/1/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def record_not_started(cmd_dir, err):
    """No process to run the command in (e.g. the pids limit is reached): record that as its result, so
    no caller waits for a runner that never ran it."""
    with open(os.path.join(cmd_dir, "output.log"), "w") as f:
        f.write(f"could not start the command: {err}\n")
    write_json(os.path.join(cmd_dir, "result.json"), {"exit_code": 126, "timed_out": False, "duration_s": 0})


def execute(key, timeout):
    """The detached runner: run the command, enforce the timeout, record the result."""
    cmd_dir = os.path.join(CMDS, key)
    env = dict(os.environ, MLGYM_STATE_FILE=SHELL_STATE, MLGYM_WORKSPACE=WORKSPACE,
               MLGYM_CMD_FILE=os.path.join(cmd_dir, "command.sh"))
    started = time.time()
    with open(os.path.join(cmd_dir, "output.log"), "wb") as out:
        try:
            proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-c", WRAPPER], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        except OSError as err:
            out.close()
            record_not_started(cmd_dir, err)
            return
        write_json(os.path.join(cmd_dir, "pid.json"), {"runner": os.getpid(), "shell": proc.pid, "boot": container_boot()})
        timed_out = False
        try:
            exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_session(proc.pid)
            exit_code = proc.wait()
        kill_session(proc.pid)  # background children left behind by the command
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
    try:
        os.kill(pids["runner"], 0)
        return True
    except ProcessLookupError:
        return False


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
    tool_state = read_json(os.path.join(STATE_DIR, "tool_state.json")) or {}
    return {"cwd": cwd, "open_file": tool_state.get("open_file")}


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


def reply(key, result, started, cap):
    """The JSON reply for a command: still running, or done with its (capped) output."""
    output_file = os.path.join(CMDS, key, "output.log")
    if result is None:
        return {"key": key, "state": "running", "started": started, "output_file": output_file}
    with open(output_file, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8", errors="replace")
    return dict(result, key=key, state="done", started=started, output=capped(text, cap),
                output_chars=len(text), truncated=len(text) > cap, output_file=output_file, **shell_position())


def report(key, done, wait_s, cap):
    """Wait up to wait_s for the command's result: on the runner's pipe (`done`) when this call started
    it, else by polling the result file."""
    started = done is not None
    deadline = time.time() + wait_s
    result = poll(key)
    while result is None and time.time() < deadline:
        if done is None:
            time.sleep(0.02)
        elif select.select([done], [], [], max(0.0, deadline - time.time()))[0]:
            os.close(done)
            done = None  # the runner exited: its result is written, or it died (poll finds out)
        result = poll(key)
    if done is not None:
        os.close(done)
    return reply(key, result, started, cap)


def valid_key(key):
    return isinstance(key, str) and key != "" and key.replace("-", "").replace("_", "").replace(".", "").isalnum()


class Waiting:
    """A `serve` request waiting for its command: until its result is there or wait_s has passed."""

    def __init__(self, request_id, key, done, wait_s, cap):
        self.id, self.key, self.done, self.cap = request_id, key, done, cap
        self.started = done is not None
        self.deadline = time.time() + wait_s


def reap_children():
    """Collect runners that exited (in `serve` they are this process's children, not init's)."""
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
    """Start (or re-attach to) the command of one request line and add it to `waiting`."""
    req = None
    try:
        req = json.loads(line)
        request_id, key = req["id"], req["key"]
        timeout, wait_s, cap = float(req["timeout_s"]), float(req["wait_s"]), int(req.get("cap", 10_000))
    except (ValueError, KeyError, TypeError) as err:
        request_id = req.get("id") if isinstance(req, dict) else None
        send({"id": request_id, "error": f"bad request: {err!r}"})
        return
    if not valid_key(key):
        send({"id": request_id, "error": f"invalid key {key!r}"})
        return
    done = None if os.path.isdir(os.path.join(CMDS, key)) else start(key, timeout, str(req.get("command", "")))
    waiting.append(Waiting(request_id, key, done, wait_s, cap))


def serve():
    """Answer JSON-line requests on stdin until it closes; commands run exactly as with `run`."""
    os.makedirs(CMDS, exist_ok=True)
    send({"hello": {"pid": os.getpid(), "boot": container_boot()}})
    waiting = []
    buffered = b""
    while True:
        reap_children()
        now = time.time()
        for w in list(waiting):
            result = poll(w.key)
            if result is None and now < w.deadline:
                continue
            waiting.remove(w)
            if w.done is not None:
                os.close(w.done)
            send(dict(reply(w.key, result, w.started, w.cap), id=w.id))
        pipes = [w.done for w in waiting if w.done is not None]
        timeout = None
        if waiting:
            timeout = max(0.0, min(w.deadline for w in waiting) - time.time())
            if any(w.done is None for w in waiting):
                timeout = min(timeout, 0.02)  # re-attached: poll, as `run` does
        readable = select.select([0] + pipes, [], [], timeout)[0]
        for w in waiting:
            if w.done in readable:
                os.close(w.done)
                w.done = None  # its runner exited; the next poll reads the result (or finds it lost)
        if 0 in readable:
            chunk = os.read(0, 65536)
            if not chunk:
                return  # the worker is gone; the commands started go on and are recorded as usual
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                if line.strip():
                    accept(line, waiting)


def main(argv):
    if argv == ["serve"]:
        try:
            serve()
        except BrokenPipeError:
            pass  # the stream is gone; nothing to tell
        return
    if len(argv) not in (4, 5) or argv[0] != "run":
        sys.exit("usage: session.py run KEY TIMEOUT_S WAIT_S [CAP_CHARS] < command | session.py serve")
    key, timeout, wait_s = argv[1], float(argv[2]), float(argv[3])
    cap = int(argv[4]) if len(argv) == 5 else 10_000
    if not valid_key(key):
        sys.exit(f"invalid key {key!r}")
    os.makedirs(CMDS, exist_ok=True)
    command = sys.stdin.read() if not os.path.isdir(os.path.join(CMDS, key)) else ""
    print(json.dumps(report(key, start(key, timeout, command), wait_s, cap)))


if __name__ == "__main__":
    main(sys.argv[1:])
