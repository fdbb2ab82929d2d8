"""The evaluator's side of a sandboxed call: run one function of the agent's code in its own process.

The agent's file is copied into a fresh folder that holds nothing else, and sandbox_runner.py imports
it in a process of its own under the sandbox user (MLGYM_SANDBOX_UID, no capabilities, no new
privileges, environment cleared, descriptors closed, resource limits), so it cannot read the grader's
files, secrets or memory, cannot write into the grader, and cannot touch the evaluator's modules,
random state or result stream. Each call is a request frame and a JSON reply with a per-call and a
total time limit and a size cap; a crash, exit, malformed or oversized reply or timeout ends in a
SandboxError whose message says what happened, never in a score.

Where privileges to switch users are missing (a developer running an evaluation on the host as a
normal user), MLGYM_SANDBOX_UNISOLATED=1 runs the same process under the caller's user; without it,
such a start is refused. The grader container always isolates.
"""
import ctypes
import json
import marshal
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_runner.py")
MAX_REPLY_BYTES = 1 << 20
PR_SET_NO_NEW_PRIVS = 38


class SandboxError(BaseException):
    """The agent's code failed (raised, exited, timed out, flooded, replied garbage). A BaseException,
    so the grader's own `except Exception` around a call (a solver's, say) does not swallow it."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Opaque:
    """A value the agent's function returned that is not plain data: shown in messages, never valid."""

    def __init__(self, shown):
        self.shown = str(shown)[:300]

    def __repr__(self):
        return self.shown


def sandbox_uid():
    """The sandbox's user: MLGYM_SANDBOX_UID, which the grader container sets."""
    value = os.environ.get("MLGYM_SANDBOX_UID")
    if not value:
        raise SandboxError("grader error: MLGYM_SANDBOX_UID is not set (set MLGYM_SANDBOX_UNISOLATED=1 only to run an "
                           "evaluation outside the grader)")
    return int(value)


def isolated():
    return os.environ.get("MLGYM_SANDBOX_UNISOLATED") != "1"


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        shown = value.get("__opaque__") if len(value) == 1 else None
        return Opaque(shown if isinstance(shown, str) else repr(value))
    return value


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def kill_all(uid):
    """Kill every process of the sandbox user in this container (a fork bomb included): a child of the
    evaluator becomes that user and sends SIGKILL to -1, which reaches exactly that user's processes in
    this pid namespace. Only for the grader container (its own pid namespace): on a host it would reach
    that user's processes in every container."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _no_new_privileges():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except Exception:
        pass


class Sandbox:
    """The agent's `function` in `source` (a private copy of the submitted file), in its own process.

    label: how messages name the file (e.g. "strategy.py"); call_timeout_s, total_timeout_s: wall-clock
    limits per call and for the sandbox's whole life; memory_mb: its address-space limit; cpu_s: its
    CPU-time limit; nproc: its process limit (1: no threads, no children); env: variables the evaluator
    adds to the process's environment (its own settings, e.g. XLA_FLAGS; never a secret).
    """

    def __init__(self, source, function, label, *, call_timeout_s=10.0, total_timeout_s=900.0, import_timeout_s=60.0,
                 memory_mb=None, cpu_s=None, nproc=1, file_mb=16, env=None):
        self.source, self.function, self.label = source, function, label
        self.call_timeout_s, self.import_timeout_s = call_timeout_s, import_timeout_s
        self.total_timeout_s = total_timeout_s
        self.memory_mb = memory_mb or int(os.environ.get("MLGYM_SANDBOX_MEMORY_MB", "0")) or None
        self.cpu_s = cpu_s or int(total_timeout_s) + 1
        self.nproc, self.file_mb = nproc, file_mb
        self.extra_env = dict(env or {})
        self.process = None
        self.calls = 0
        self.folder = None
        self.rusage = None
        self.buffer = b""

    # -- life cycle -------------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        self.deadline = time.monotonic() + self.total_timeout_s
        # A fresh folder the sandbox user can read but not write (not under the evaluator's private TMPDIR).
        self.folder = tempfile.mkdtemp(prefix="mlgym-sandbox-", dir=os.environ.get("MLGYM_SANDBOX_DIR", "/tmp"))
        os.chmod(self.folder, 0o755)
        copy = os.path.join(self.folder, os.path.basename(self.label))
        shutil.copyfile(self.source, copy)
        os.chmod(copy, 0o444)
        limits = {"RLIMIT_CORE": 0, "RLIMIT_NOFILE": 64, "RLIMIT_FSIZE": self.file_mb << 20, "RLIMIT_CPU": int(self.cpu_s)}
        if self.nproc is not None:
            limits["RLIMIT_NPROC"] = self.nproc
        if self.memory_mb:
            limits["RLIMIT_AS"] = self.memory_mb << 20
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MLGYM_SANDBOX_LIMITS": ",".join(f"{k}={v}" for k, v in limits.items()),
            **self.extra_env,
        }
        options = {}
        if isolated():
            uid = sandbox_uid()
            if os.geteuid() == uid:
                raise SandboxError(f"grader error: the evaluator runs as the sandbox user {uid}")
            options = {"user": uid, "group": uid, "extra_groups": []}
            try:
                kill_all(uid)  # whatever an earlier evaluation in this container left behind
            except OSError:
                pass
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", RUNNER, copy, self.function],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                cwd=self.folder, env=env, close_fds=True, start_new_session=True,
                preexec_fn=_no_new_privileges, **options,
            )
        except PermissionError as exc:
            raise SandboxError(
                f"grader error: cannot start the sandbox as user {sandbox_uid()} ({exc}); the grader needs CAP_SETUID and "
                "CAP_SETGID (set MLGYM_SANDBOX_UNISOLATED=1 only to run an evaluation outside the grader)"
            ) from None
        self.requests = self.process.stdin.fileno()
        self.replies = self.process.stdout.fileno()
        os.set_blocking(self.requests, False)  # a process that stops reading must not block the evaluator
        reply = self._reply(self.import_timeout_s, "importing it")
        if reply.get("ready") is True:
            return
        if "import_raised" in reply:
            kind, message = self._pair(reply["import_raised"])
            raise SandboxError(f"importing {self.label} raised {kind}: {message}")
        if reply.get("missing") is True:
            raise SandboxError("missing")
        raise SandboxError(f"{self.label} sent a malformed reply while importing it: {str(reply)[:200]}")

    def close(self):
        """End the process and everything it started; keep its resource usage in self.rusage."""
        if self.process is None:
            return
        process, self.process = self.process, None
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._kill(process)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _kill(self, process):
        if isolated():
            kill_all(sandbox_uid())
        else:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
        _, status, self.rusage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)

    # -- calls ------------------------------------------------------------------------------------

    def seed(self, value):
        """Seed the random module of the agent's process (its own stream, nothing of the evaluator's)."""
        self._send(("seed", value))

    def call(self, *args):
        """The function's return value for args (plain data: see sandbox_runner.py), or SandboxError."""
        self.calls += 1
        self._send(("call", args))
        reply = self._reply(self.call_timeout_s, f"call {self.calls}")
        if "ok" in reply:
            return _from_json(reply["ok"])
        if "raised" in reply:
            kind, message = self._pair(reply["raised"])
            raise SandboxError(f"{self.function} raised {kind}: {message}")
        raise SandboxError(f"{self.label} sent a malformed reply to call {self.calls}: {str(reply)[:200]}")

    __call__ = call

    def cpu_seconds(self):
        """CPU time the agent's process has used so far (all its threads)."""
        if self.process is None:
            return 0.0
        try:
            return time.clock_gettime((~self.process.pid << 3) | 2)  # the process's CPU-time clock
        except OSError:
            return 0.0

    # -- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _pair(value):
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            return value[0][:100], value[1][:1000]
        return "an exception", str(value)[:300]

    def _send(self, message):
        data = marshal.dumps(message)
        view = memoryview(len(data).to_bytes(4, "little") + data)
        during = f"call {self.calls + 1}" if message[0] == "call" else "a call"
        limit = min(time.monotonic() + self.call_timeout_s, self.deadline)
        while view:
            try:
                view = view[os.write(self.requests, view):]
            except BlockingIOError:
                left = limit - time.monotonic()
                if left <= 0:
                    self._timed_out(self.call_timeout_s, during)
                select.select([], [self.requests], [], left)
            except OSError:
                self._ended(during)

    def _reply(self, timeout, during):
        """One JSON reply line, within `timeout` seconds (and the sandbox's total time)."""
        now = time.monotonic()
        limit = min(now + timeout, self.deadline)
        while b"\n" not in self.buffer:
            left = limit - time.monotonic()
            if left <= 0:
                self._timed_out(timeout, during)
            ready, _, _ = select.select([self.replies], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.replies, 65536)
            if not chunk:
                self._ended(during)
            self.buffer += chunk
            if len(self.buffer) > MAX_REPLY_BYTES and b"\n" not in self.buffer[:MAX_REPLY_BYTES + 1]:
                self.close()
                raise SandboxError(f"{self.label} sent more than {MAX_REPLY_BYTES} bytes in reply to {during}")
        line, _, self.buffer = self.buffer.partition(b"\n")
        if len(line) > MAX_REPLY_BYTES:
            self.close()
            raise SandboxError(f"{self.label} sent more than {MAX_REPLY_BYTES} bytes in reply to {during}")
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
            self.close()
            raise SandboxError(f"{self.label} sent a malformed reply to {during}: {line[:100]!r}") from None
        if not isinstance(reply, dict):
            self.close()
            raise SandboxError(f"{self.label} sent a malformed reply to {during}: {line[:100]!r}")
        return reply

    def _timed_out(self, timeout, during):
        total = time.monotonic() >= self.deadline
        self.close()
        if total:
            raise SandboxError(f"{self.label} ran for more than {self.total_timeout_s:g} s in all; make {self.function} faster")
        raise SandboxError(f"{self.function} took more than {timeout:g} s to answer {during}; make it faster")

    def _ended(self, during):
        process = self.process
        if process is None:
            raise SandboxError(f"the process of {self.label} ended during {during}")
        self.close()
        code = process.returncode
        if code is not None and code < 0:
            name = _signal_name(-code)
            why = {
                "SIGXCPU": f" (its CPU-time limit of {self.cpu_s:g} s)",
                "SIGKILL": " (killed: out of memory, or over its CPU-time limit)",
            }.get(name, "")
            raise SandboxError(f"the process of {self.label} was ended by {name}{why} during {during}")
        raise SandboxError(f"the process of {self.label} exited (status {code}) during {during}; {self.function} must return, not exit")
