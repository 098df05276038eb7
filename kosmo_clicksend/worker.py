"""Run each Lua script in a separate, killable worker process with OS limits.

``WorkerRunner`` has the interface of ``ScriptRunner``. Each ``run`` starts
``python -m kosmo_clicksend.worker_child`` in a new session and kills its whole process group once
``time_limit + GRACE_SECONDS`` of wall-clock time have passed since ``run`` began. That stops what
no Lua hook can stop, such as a pathological ``string.find`` pattern that runs for minutes inside
one C call.

The worker runs the ordinary ``ScriptRunner`` with a host that forwards ``call_tool`` and
``read_doc`` to the parent, which serves them with its own host. Permissions, HTTP clients,
credentials and journals stay in the parent: the worker gets a minimal environment, the script,
its limits and the results of the calls it makes, nothing else.

Protocol, one JSON object per line. The parent writes to the worker's stdin. The worker writes to
its original stdout, and points its file descriptor 1 at stderr so that nothing else writes there::

    parent -> worker  {"type": "job", "code", "chunk_name", "limits", "os_limits"}
    worker -> parent  {"type": "call_tool", "path", "arguments"} or {"type": "read_doc", "page"}
    parent -> worker  {"type": "result", "value"}, {"type": "error", "message", "tool"?, "account"?}
                      or {"type": "internal_error", "name", "message"}
    worker -> parent  {"type": "done", "result"} (RunResult's fields) or {"type": "failed", "error"}

Before it runs the script, the worker sets RLIMIT_CPU, RLIMIT_AS and RLIMIT_CORE on itself.

NOTE: the worker sends its output only with the final result, so a run that is killed (time limit,
address-space limit, an outside signal) reports no output. Its ``integration_calls`` are the calls
the parent served, so a send that happened before the kill is still reported.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from .errors import ClickSendError
from .lua_runtime import MIB, IntegrationCall, Limits, LuaHost, RunResult, limit_message

__all__ = ["GRACE_SECONDS", "WorkerRunner"]

logger = logging.getLogger(__name__)

# Seconds past the time limit before the parent kills the worker. The worker's own Lua hook fires
# at the time limit, so this only has to cover the worker's start-up and its final message. A
# start-up took about 60 ms on a 2-vCPU x86_64 machine (tests/benchmarks/test_bench_worker.py).
GRACE_SECONDS = 0.5

# RLIMIT_CPU is a backstop for a parent that stops serving the worker. The worker runs one thread,
# so it cannot use more CPU time than wall-clock time and the parent's kill normally comes first.
_CPU_MARGIN_SECONDS = 1

# RLIMIT_AS = _ADDRESS_SPACE_BASE + _ADDRESS_SPACE_PER_LUA_BYTE * memory_limit.
# Measured on CPython 3.11.7 with lupa 2.8 on x86_64 Linux, reading VmSize and VmPeak from
# /proc/self/status: VmSize was 19 MiB after the worker's imports and a run of "return 1".
# With a 32 MiB Lua limit, a script that filled Lua memory with small strings peaked at 66 MiB,
# because malloc keeps freed chunks. A script that returned 190,000 strings filling Lua memory
# peaked at 155 MiB (19 MiB + 4.3 x the Lua limit) while the runner converted the result to Python
# and encoded it as JSON to check its size. The larger base and factor leave room for other builds
# and for the messages to and from the parent.
_ADDRESS_SPACE_BASE = 256 * MIB
_ADDRESS_SPACE_PER_LUA_BYTE = 8

_WORKER_MODULE = "kosmo_clicksend.worker_child"
EXIT_OUT_OF_MEMORY = 3
EXIT_PARENT_GONE = 4
_READ_SIZE = 256 * 1024
_STDERR_TAIL_BYTES = 4096
# Environment variables that the worker may need to start Python. No other variable reaches it,
# so credentials in the environment stay in the parent.
_INHERITED_VARIABLES = ("LD_LIBRARY_PATH", "PYTHONHOME")

Trace = Callable[[str, bytes], None]


class WorkerRunner:
    """Run Lua scripts like ScriptRunner, each in a fresh worker process that is killed at the deadline.

    ``trace``, when given, is called with ``("to_worker", line)`` for every line the parent writes
    to the worker and ``("from_worker", line)`` for every line it reads (bytes without the newline),
    for debugging and tests.
    ``pid`` is the process id of the current or last worker.
    """

    def __init__(self, host: LuaHost, limits: Limits | None = None, *, trace: Trace | None = None) -> None:
        self.host = host
        self.limits = limits or Limits()
        self.trace = trace
        self.pid: int | None = None

    def run(self, code: str, *, chunk_name: str = "script") -> RunResult:
        """Run a script in a worker process and return its outcome, as ScriptRunner.run does.

        Script errors, limits and a worker that dies (``error_kind`` "worker") are reported in the
        result, not raised. ``execution_time_ms`` includes starting the worker. An exception that
        the host raises is passed to the script as a Lua error, except BaseExceptions such as
        KeyboardInterrupt, which propagate after the worker is killed. Raises OSError when the
        worker process cannot be started.
        """
        started = time.monotonic()
        deadline = started + self.limits.time_limit + GRACE_SECONDS
        os_limits = _os_limits(self.limits)
        job = {
            "type": "job",
            "code": code,
            "chunk_name": chunk_name,
            "limits": dataclasses.asdict(self.limits),
            "os_limits": os_limits,
        }
        served: list[IntegrationCall] = []
        worker = _Worker(self.trace, max_message=os_limits["address_space"] or 1024 * MIB)
        self.pid = worker.pid
        final: dict[str, Any] | None = None
        failure: tuple[str, str] | None = None
        try:
            try:
                final = self._converse(worker, encode_message(job), deadline, served)
            except _WorkerExited:
                worker.wait_for_exit(timeout=1.0)
            except _ProtocolError as exc:
                failure = f"the worker sent an invalid message ({exc})", "worker"
        finally:
            worker.stop()
        elapsed_ms = round((time.monotonic() - started) * 1000, 3)
        if final is not None:
            return _decode_final(final, elapsed_ms)
        if failure is None and worker.exited:
            failure = self._death_error(worker, os_limits["cpu_seconds"])
        if failure is None:
            logger.info("killed worker %d at the time limit of %g s", worker.pid, self.limits.time_limit)
            failure = self._time_error()
        error, kind = failure
        if kind == "worker":
            logger.warning("worker %d failed: %s", worker.pid, error)
        return RunResult(False, "", error, kind, None, elapsed_ms, 0, served)

    def _converse(
        self, worker: _Worker, job: bytes, deadline: float, served: list[IntegrationCall]
    ) -> dict[str, Any] | None:
        """Send the job and serve the worker's requests until its final message, or None at the deadline."""
        worker.send(job)
        while True:
            line = worker.receive(deadline)
            if line is None:
                return None
            message = _decode_message(line)
            kind = message.get("type")
            if kind == "call_tool":
                worker.send(self._serve_call(message, served))
            elif kind == "read_doc":
                worker.send(self._serve_doc(message))
            elif kind in ("done", "failed"):
                return message
            else:
                raise _ProtocolError(f"unknown message type {kind!r}")

    def _serve_call(self, message: dict[str, Any], served: list[IntegrationCall]) -> bytes:
        path = message.get("path")
        if not isinstance(path, str):
            raise _ProtocolError("call_tool without a path")
        started = time.monotonic()
        function, account = path.removeprefix("app."), None
        try:
            function, account, result = self.host.call_tool(path, message.get("arguments"))
            # NOTE: the result reaches the script as JSON, so a non-string dict key arrives as a
            # string and a tuple as a list. ClickSend's results are JSON already.
            reply = encode_message({"type": "result", "value": [function, account, result]})
        except ClickSendError as exc:
            error: dict[str, Any] = {"type": "error", "message": str(exc)}
            # The worker's call log takes tool and account from these attributes, as in-process runs do.
            for name in ("tool", "account"):
                if hasattr(exc, name):
                    error[name] = getattr(exc, name)
            function = getattr(exc, "tool", function)
            account = getattr(exc, "account", account)
            served.append(_call_record(function, account, started, error["message"]))
            return encode_message(error, default=str)
        except Exception as exc:
            logger.exception("tool call %s from the worker failed unexpectedly", path)
            error_text = f"{path}: internal error ({type(exc).__name__}: {exc})"
            served.append(_call_record(function, account, started, error_text))
            return encode_message({"type": "internal_error", "name": type(exc).__name__, "message": str(exc)})
        served.append(_call_record(function, account, started, None))
        return reply

    def _serve_doc(self, message: dict[str, Any]) -> bytes:
        page = message.get("page")
        if not isinstance(page, str):
            raise _ProtocolError("read_doc without a page")
        try:
            return encode_message({"type": "result", "value": self.host.read_doc(page)})
        except Exception as exc:
            logger.exception("lua_read_doc(%r) from the worker failed", page)
            return encode_message({"type": "internal_error", "name": type(exc).__name__, "message": str(exc)})

    def _time_error(self) -> tuple[str, str]:
        return limit_message("time", f"{self.limits.time_limit:g} s", "--time-limit"), "time_limit"

    def _death_error(self, worker: _Worker, cpu_seconds: int | None) -> tuple[str, str]:
        """Explain a worker that exited without a final message: time or memory limit, or a crash."""
        code = worker.returncode
        tail = bytes(worker.stderr_tail)
        if code == -signal.SIGXCPU or (
            code == -signal.SIGKILL and cpu_seconds is not None and worker.cpu_seconds >= cpu_seconds
        ):
            return self._time_error()
        out_of_memory = b"not enough memory" in tail or b"MemoryError" in tail
        if code == EXIT_OUT_OF_MEMORY or (code is not None and code < 0 and out_of_memory):
            return limit_message("memory", f"{self.limits.memory_limit / MIB:g} MiB", "--memory-limit"), "memory_limit"
        if code is None:
            how = "ended with an unknown status"
        elif code < 0:
            how = f"was killed by signal {signal.Signals(-code).name}"
        else:
            how = f"exited with status {code}"
        message = f"the worker process {how} before the script finished"
        last_line = tail.decode("utf-8", errors="replace").strip().rsplit("\n", 1)[-1].strip()
        if last_line:
            message += f" (last stderr line: {last_line[:200]})"
        return message, "worker"


def _call_record(function: str, account: str | None, started: float, error: str | None) -> IntegrationCall:
    return IntegrationCall(
        function=function,
        account=account,
        status="error" if error else "ok",
        duration_ms=round((time.monotonic() - started) * 1000, 3),
        error=error,
    )


def _decode_final(message: dict[str, Any], elapsed_ms: float) -> RunResult:
    if message["type"] == "failed":
        error = f"the worker's script runner failed: {message.get('error')}"
        return RunResult(False, "", error, "worker", None, elapsed_ms, 0, [])
    try:
        fields = dict(message["result"])
        calls = [IntegrationCall(**call) for call in fields.pop("integration_calls")]
        result = RunResult(**fields, integration_calls=calls)
    except (KeyError, TypeError, ValueError) as exc:
        error = f"the worker sent an invalid message (a result that does not fit RunResult: {exc})"
        return RunResult(False, "", error, "worker", None, elapsed_ms, 0, [])
    result.execution_time_ms = elapsed_ms
    return result


def _os_limits(limits: Limits) -> dict[str, int | None]:
    """Compute the worker's RLIMIT_CPU in seconds and RLIMIT_AS in bytes; None means no limit."""
    cpu_seconds = None
    if math.isfinite(limits.time_limit):
        cpu_seconds = max(1, math.ceil(limits.time_limit)) + _CPU_MARGIN_SECONDS
    address_space = None
    if limits.memory_limit > 0:  # lupa treats a max_memory of 0 as no limit
        address_space = _address_space_limit(limits.memory_limit)
    return {"cpu_seconds": cpu_seconds, "address_space": address_space}


def _address_space_limit(memory_limit: int) -> int:
    return _ADDRESS_SPACE_BASE + _ADDRESS_SPACE_PER_LUA_BYTE * memory_limit


def encode_message(message: dict[str, Any], default: Callable[[Any], Any] | None = None) -> bytes:
    # ASCII escapes keep lone surrogates and line separators out of the byte stream.
    return json.dumps(message, ensure_ascii=True, default=default).encode("ascii") + b"\n"


def _decode_message(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise _ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise _ProtocolError("not a JSON object")
    return message


class _WorkerExited(Exception):
    """The worker closed its end of the protocol pipe."""


class _ProtocolError(Exception):
    """The worker sent something that is not a protocol message."""


class _Worker:
    """One worker process, its pipes, and the poll loop that moves lines in both directions."""

    def __init__(self, trace: Trace | None, *, max_message: int) -> None:
        import subprocess  # only the parent needs it, so the worker does not import it

        self.process: subprocess.Popen[bytes] = subprocess.Popen(
            [sys.executable, "-m", _WORKER_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            start_new_session=True,
            cwd="/",
            env=_worker_environment(),
        )
        self.pid = self.process.pid
        self.exited = False
        self.returncode: int | None = None
        self.cpu_seconds = 0.0
        self.stderr_tail = bytearray()
        self._reaped = False
        self._trace = trace
        self._max_message = max_message
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._files = [self.process.stdin, self.process.stdout, self.process.stderr]
        self._stdin = self.process.stdin.fileno()
        self._stdout = self.process.stdout.fileno()
        self._stderr = self.process.stderr.fileno()
        os.set_blocking(self._stdin, False)
        os.set_blocking(self._stderr, False)
        self._poll = select.poll()
        self._poll.register(self._stdout, select.POLLIN)
        self._poll.register(self._stderr, select.POLLIN)
        self._outgoing = bytearray()
        self._incoming = bytearray()
        self._scanned = 0

    def send(self, line: bytes) -> None:
        """Queue a line for the worker, which ``receive`` writes while it waits for the reply."""
        if self._trace is not None:
            self._trace("to_worker", line[:-1])
        if not self._outgoing:
            self._poll.register(self._stdin, select.POLLOUT)
        self._outgoing += line

    def receive(self, deadline: float) -> bytes | None:
        """Return the worker's next line, or None once the deadline passes. Raise _WorkerExited at EOF."""
        while True:
            newline = self._incoming.find(b"\n", self._scanned)
            if newline >= 0:
                line = bytes(self._incoming[:newline])
                del self._incoming[: newline + 1]
                self._scanned = 0
                if self._trace is not None:
                    self._trace("from_worker", line)
                return line
            self._scanned = len(self._incoming)
            if self._scanned > self._max_message:
                raise _ProtocolError(f"a line longer than {self._max_message} bytes")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            timeout_ms = None if math.isinf(remaining) else math.ceil(remaining * 1000)
            for fd, _ in self._poll.poll(timeout_ms):
                if fd == self._stdout:
                    chunk = os.read(fd, _READ_SIZE)
                    if not chunk:
                        self.exited = True
                        raise _WorkerExited()
                    self._incoming += chunk
                elif fd == self._stderr:
                    self._read_stderr()
                elif fd == self._stdin:
                    self._write()

    def _write(self) -> None:
        try:
            written = os.write(self._stdin, self._outgoing)
        except BlockingIOError:
            return
        except BrokenPipeError:
            # The worker is gone. Its stdout reaches EOF next, and receive reports that.
            written = len(self._outgoing)
        del self._outgoing[:written]
        if not self._outgoing:
            self._poll.unregister(self._stdin)

    def _read_stderr(self) -> bool:
        """Append what the worker wrote to stderr to the kept tail; return False when nothing was read."""
        try:
            chunk = os.read(self._stderr, _READ_SIZE)
        except BlockingIOError:
            return False
        if not chunk:
            self._poll.unregister(self._stderr)
            self._stderr = -1
            return False
        self.stderr_tail += chunk
        del self.stderr_tail[:-_STDERR_TAIL_BYTES]
        return True

    def wait_for_exit(self, timeout: float) -> None:
        """Reap the worker if it exits within ``timeout`` seconds, so its own exit status is kept."""
        give_up = time.monotonic() + timeout
        while not self._reap(os.WNOHANG) and time.monotonic() < give_up:
            time.sleep(0.005)

    def stop(self) -> None:
        """Kill the worker's process group unless the worker was reaped, reap it, and close the pipes."""
        if not self._reaped:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap(0)
        while self._stderr >= 0 and self._read_stderr():
            pass
        for file in self._files:
            file.close()
        if self.stderr_tail:
            logger.debug("worker %d wrote to stderr: %s", self.pid, self.stderr_tail.decode("utf-8", "replace"))

    def _reap(self, options: int) -> bool:
        try:
            pid, status, usage = os.wait4(self.pid, options)
        except ChildProcessError:
            # Another waiter reaped it, or the kernel did because the application ignores SIGCHLD.
            self._reaped = True
            self.process.returncode = -1
            return True
        if pid == 0:
            return False
        self._reaped = True
        self.returncode = os.waitstatus_to_exitcode(status)
        self.process.returncode = self.returncode
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        return True


def _worker_environment() -> dict[str, str]:
    """Build the worker's environment: where this package is, and nothing secret."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [package_root]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    environment = {"PYTHONPATH": os.pathsep.join(paths)}
    for name in _INHERITED_VARIABLES:
        if name in os.environ:
            environment[name] = os.environ[name]
    return environment
