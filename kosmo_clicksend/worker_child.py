"""The worker process side of ``WorkerRunner``: run one job and talk to the parent over pipes.

Started as ``python -m kosmo_clicksend.worker_child`` by ``kosmo_clicksend.worker``, whose module
docstring describes the protocol. The worker sets its own OS limits, runs the ordinary
``ScriptRunner`` with a host that forwards every tool call to the parent, and writes the result.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import resource
import sys
from typing import IO, Any

from .errors import ClickSendError
from .lua_runtime import Limits, RunResult, ScriptRunner
from .worker import EXIT_OUT_OF_MEMORY, EXIT_PARENT_GONE, encode_message

__all__ = ["main"]

logger = logging.getLogger(__name__)


class _ParentHost:
    """A LuaHost that forwards each request to the parent and waits for the reply."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes]) -> None:
        self._reader = reader
        self._writer = writer

    def call_tool(self, path: str, arguments: Any) -> tuple[str, str, dict[str, Any]]:
        reply = self._request({"type": "call_tool", "path": path, "arguments": arguments})
        if reply["type"] != "result":
            raise _reply_error(reply)
        function, account, result = reply["value"]
        return function, account, result

    def read_doc(self, page: str) -> str:
        reply = self._request({"type": "read_doc", "page": page})
        if reply["type"] != "result":
            raise _reply_error(reply)
        text: str = reply["value"]
        return text

    def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            self._writer.write(encode_message(message))
            self._writer.flush()
            reply_line = self._reader.readline()
        except OSError:
            reply_line = b""
        if not reply_line:
            # Raising would reach the script as a Lua error. Without a parent the run has no use, so it ends here.
            os._exit(EXIT_PARENT_GONE)
        reply: dict[str, Any] = json.loads(reply_line)
        return reply


def _reply_error(reply: dict[str, Any]) -> Exception:
    """Rebuild the exception that the parent's host raised, so the runner reports it as in-process."""
    if reply["type"] == "error":
        error = ClickSendError(reply["message"])
        for name in ("tool", "account"):
            if name in reply:
                setattr(error, name, reply[name])
        return error
    # The runner names the exception's type in its message, so the rebuilt one carries the same name.
    error_type = type(str(reply["name"]), (Exception,), {})
    return error_type(reply["message"])


def _set_os_limits(os_limits: dict[str, int | None]) -> None:
    _lower_limit(resource.RLIMIT_CORE, 0, 0)
    cpu_seconds = os_limits["cpu_seconds"]
    if cpu_seconds is not None:
        # SIGXCPU at the soft limit, SIGKILL a second later if SIGXCPU did not end the process.
        _lower_limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    address_space = os_limits["address_space"]
    if address_space is not None:
        _lower_limit(resource.RLIMIT_AS, address_space, address_space)


def _lower_limit(which: int, soft: int, hard: int) -> None:
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _result_fields(result: RunResult) -> dict[str, Any]:
    # dataclasses.asdict would deep-copy the result, which can be as large as the Lua memory.
    fields = {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}
    fields["integration_calls"] = [dataclasses.asdict(call) for call in result.integration_calls]
    return fields


def main() -> int:
    """Run one job from stdin and write its requests and final result to stdout."""
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    reader = sys.stdin.buffer
    try:
        line = reader.readline()
        if not line:
            return 0
        job = json.loads(line)
        _set_os_limits(job["os_limits"])
        runner = ScriptRunner(_ParentHost(reader, protocol), Limits(**job["limits"]))
        try:
            result = runner.run(job["code"], chunk_name=job["chunk_name"])
            final = {"type": "done", "result": _result_fields(result)}
        except MemoryError:
            raise
        except Exception as exc:
            logger.exception("the script runner failed")
            final = {"type": "failed", "error": f"{type(exc).__name__}: {exc}"}
        protocol.write(encode_message(final))
        protocol.flush()
    except MemoryError:
        # A message would need memory that is not there, so the parent reads this exit status instead.
        os._exit(EXIT_OUT_OF_MEMORY)
    except BrokenPipeError:
        os._exit(EXIT_PARENT_GONE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
