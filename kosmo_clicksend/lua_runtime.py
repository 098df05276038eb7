"""Run agent-written Lua scripts in a sandboxed lupa runtime (Lua 5.4).

Each script gets a fresh ``LuaRuntime`` with a memory limit, a wall-clock deadline enforced by an
instruction-count hook, and a whitelisted global table built by ``lua_sandbox.lua``: no ``io``,
``os`` beyond its clock functions, ``package``, ``require``, ``load``, ``debug``, ``string.dump``,
``collectgarbage`` or ``python``, and no Python object reachable from Lua. Scripts reach
ClickSend through ``app.integrations.clicksend``, which calls back into a ``LuaHost``.

Callers use ``ScriptRunner.run`` and ``RunResult`` only, so execution can move into a separate
worker process without changing them.

NOTE: a hook runs only between Lua instructions, so one long C call (a pathological
``string.find`` pattern) is not stopped at the deadline; only a killable process can stop it.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

import lupa.lua54 as lupa

from .errors import ArgumentError, ClickSendError, ScriptError

__all__ = ["IntegrationCall", "Limits", "LuaHost", "RunResult", "ScriptRunner", "limit_message", "lua_to_python"]

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
_MAX_DEPTH = 32
_MAX_ITEMS = 200_000
_MAX_TEXT_BYTES = 16 * MIB
_HOOK_INTERVAL = 1000


class LuaHost(Protocol):
    """The services a script can reach outside the sandbox: tool calls and reference pages."""

    def call_tool(self, path: str, arguments: Any) -> tuple[str, str, dict[str, Any]]:
        """Run the tool at a Lua path; return (tool name, account, result). Raise ClickSendError on failure."""

    def read_doc(self, page: str) -> str:
        """Return a page of the Lua reference."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one script run: seconds of wall-clock time, bytes, and a call count."""

    time_limit: float = 30.0
    memory_limit: int = 32 * MIB
    output_limit: int = 1 * MIB
    result_limit: int = 1 * MIB
    max_calls: int = 1000


@dataclass
class IntegrationCall:
    """One call a script made to a ClickSend tool."""

    function: str
    account: str | None
    status: str
    duration_ms: float
    error: str | None = None


@dataclass
class RunResult:
    """Outcome of one script run; ``result`` contains the returned value (a list when several)."""

    success: bool
    output: str
    error: str | None
    error_kind: str | None
    result: Any
    execution_time_ms: float
    memory_usage: int
    integration_calls: list[IntegrationCall] = field(default_factory=list)

    def raise_for_error(self) -> None:
        """Raise ScriptError when the run failed."""
        if not self.success:
            raise ScriptError(self.error or "script failed", kind=self.error_kind or "runtime")


class _ConversionError(ValueError):
    pass


class _TextLimitError(_ConversionError):
    pass


def lua_to_python(
    value: Any, *, strict: bool = True, empty_as_list: bool = False, max_text_bytes: int = _MAX_TEXT_BYTES
) -> Any:
    """Convert a Lua value to plain Python data (dict, list, str, int, float, bool, None).

    Tables whose keys are exactly 1..n become lists; other tables become dicts with string
    keys. Only raw access is used, so no metamethod of the script runs. With ``strict``, a
    function, coroutine, userdata, NaN or infinity raises ValueError; otherwise it becomes a
    descriptive string. An empty table becomes ``{}`` (``[]`` with ``empty_as_list``).
    ``max_text_bytes`` caps the text of all strings together: one Lua string referenced many
    times is copied each time in Python, so without a cap a small Lua heap could fill the host's.
    """
    counter = [0, max_text_bytes]
    return _convert(value, 0, counter, strict, empty_as_list)


def _convert(value: Any, depth: int, counter: list[int], strict: bool, empty_as_list: bool) -> Any:
    kind = lupa.lua_type(value)
    if isinstance(value, str):
        counter[1] -= len(value)
        if counter[1] < 0:
            raise _TextLimitError("the strings in it add up to more text than allowed; send or return less")
    if kind is None:
        if isinstance(value, float) and not math.isfinite(value):
            if strict:
                raise _ConversionError(f"the number {value} cannot be sent; use a finite number")
            return str(value)
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        if strict:
            raise _ConversionError(f"a value of type {type(value).__name__} cannot be sent")
        return f"<{type(value).__name__}>"
    if kind != "table":
        if strict:
            raise _ConversionError(f"a Lua {kind} cannot be sent; pass strings, numbers, booleans and tables")
        return f"<{kind}>"
    if depth >= _MAX_DEPTH:
        raise _ConversionError(f"tables are nested deeper than {_MAX_DEPTH} levels, or contain a cycle")
    try:
        items = list(value.items())
    except UnicodeDecodeError as exc:
        raise _ConversionError("a string is not valid UTF-8 text") from exc
    counter[0] += len(items)
    if counter[0] > _MAX_ITEMS:
        raise _ConversionError(f"tables hold more than {_MAX_ITEMS} values in all")
    if not items:
        return [] if empty_as_list else {}
    keys = [key for key, _ in items]
    if all(isinstance(key, int) and not isinstance(key, bool) for key in keys) and sorted(keys) == list(
        range(1, len(keys) + 1)
    ):
        ordered = sorted(items, key=lambda item: item[0])
        return [_convert(item, depth + 1, counter, strict, empty_as_list) for _, item in ordered]
    out: dict[str, Any] = {}
    for key, item in items:
        if isinstance(key, bool) or not isinstance(key, (str, int, float)):
            raise _ConversionError(f"a table key of type {lupa.lua_type(key) or type(key).__name__} cannot be sent")
        if isinstance(key, float):
            if not key.is_integer():
                raise _ConversionError(f"the table key {key} cannot be sent; use strings or whole numbers as keys")
            key = int(key)
        out[str(key)] = _convert(item, depth + 1, counter, strict, empty_as_list)
    return out


def _deny_attribute(obj: Any, name: Any, *args: Any) -> Any:
    raise AttributeError("Python attributes are not accessible from this sandbox")


def limit_message(kind: str, amount: str, flag: str) -> str:
    """Return the error text of a limit that was hit, naming the flag that raises it."""
    return f"{kind} limit of {amount} reached; raise it with {flag}"


class _Run:
    """State of one script run, shared by the callbacks the sandbox receives."""

    def __init__(self, host: LuaHost, limits: Limits) -> None:
        self.host = host
        self.limits = limits
        self.runtime = lupa.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            attribute_handlers=(_deny_attribute, _deny_attribute),
            unpack_returned_tuples=True,
            max_memory=limits.memory_limit,
        )
        self.deadline = math.inf
        self.timed_out = False
        self.call_limit_hit = False
        self.calls: list[IntegrationCall] = []
        self.headroom = min(2 * MIB, max(limits.memory_limit // 4, 64 * 1024))
        self.time_message = limit_message("time", f"{limits.time_limit:g} s", "--time-limit")
        self.memory_message = limit_message("memory", f"{limits.memory_limit / MIB:g} MiB", "--memory-limit")

    # Callbacks: each returns (ok, value) and never raises into Lua.

    def deadline_passed(self) -> bool:
        if time.monotonic() > self.deadline:
            self.timed_out = True
            return True
        return False

    def _fits(self, text: str) -> bool:
        used = self.runtime.get_memory_used()
        # A table built from JSON takes a few times the JSON's size in Lua memory.
        return used + 4 * len(text) + self.headroom < self.limits.memory_limit

    def dispatch(self, path: Any, arguments: Any) -> tuple[bool, Any]:
        started = time.monotonic()
        function, account = str(path), None
        try:
            if started > self.deadline:
                return False, self.time_message
            if len(self.calls) >= self.limits.max_calls:
                self.call_limit_hit = True
                return False, limit_message("integration call", f"{self.limits.max_calls} calls", "--max-calls")
            try:
                converted = lua_to_python(arguments, empty_as_list=False)
            except _ConversionError as exc:
                raise ArgumentError(f"app.{path}", [f"arguments: {exc}"]) from None
            function, account, result = self.host.call_tool(f"app.{path}", converted)
            encoded = json.dumps(result, ensure_ascii=False)
            if not self._fits(encoded):
                raise ScriptError(
                    f"{function}: the result ({len(encoded)} bytes of JSON) does not fit in the memory left; "
                    "raise --memory-limit or ask for fewer rows",
                    kind="memory_limit",
                )
            table = self.runtime.table_from(result, recursive=True)
            self._log_call(function, account, started, None)
            return True, table
        except ClickSendError as exc:
            message = str(exc)
            function = getattr(exc, "tool", function)
            account = getattr(exc, "account", account)
            self._log_call(function, account, started, message)
            return False, message
        except Exception as exc:  # a bug must surface as a Lua error, not escape into Lua as an object
            logger.exception("tool call %s failed unexpectedly", path)
            message = f"app.{path}: internal error ({type(exc).__name__}: {exc})"
            self._log_call(function, account, started, message)
            return False, message

    def _log_call(self, function: str, account: str | None, started: float, error: str | None) -> None:
        self.calls.append(
            IntegrationCall(
                function=function,
                account=account,
                status="error" if error else "ok",
                duration_ms=round((time.monotonic() - started) * 1000, 3),
                error=error,
            )
        )

    def read_doc(self, page: Any) -> tuple[bool, Any]:
        try:
            if not isinstance(page, str) or not page:
                return False, "lua_read_doc: give a page name such as 'integrations.clicksend'"
            text = self.host.read_doc(page)
            if not self._fits(text):
                return False, "lua_read_doc: the page does not fit in the memory left; raise --memory-limit"
            return True, text
        except Exception as exc:
            logger.exception("lua_read_doc(%r) failed", page)
            return False, f"lua_read_doc: internal error ({type(exc).__name__})"

    def json_encode(self, value: Any) -> tuple[bool, Any]:
        try:
            data = lua_to_python(value, empty_as_list=True)
            text = json.dumps(data, ensure_ascii=False, sort_keys=True, allow_nan=False)
        except (_ConversionError, ValueError) as exc:
            return False, f"json.encode: {exc}"
        except Exception as exc:
            logger.exception("json.encode failed")
            return False, f"json.encode: internal error ({type(exc).__name__})"
        if not self._fits(text):
            return False, "json.encode: the text does not fit in the memory left; raise --memory-limit"
        return True, text

    def json_decode(self, text: Any) -> tuple[bool, Any]:
        try:
            if not self._fits(text):
                return False, "json.decode: the text does not fit in the memory left; raise --memory-limit"
            data = json.loads(text)
            if isinstance(data, (dict, list)):
                return True, self.runtime.table_from(data, recursive=True)
            return True, data
        except json.JSONDecodeError as exc:
            return False, f"json.decode: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        except Exception as exc:
            logger.exception("json.decode failed")
            return False, f"json.decode: internal error ({type(exc).__name__})"


_SETUP_CODE: str | None = None


def _setup_code() -> str:
    global _SETUP_CODE
    if _SETUP_CODE is None:
        _SETUP_CODE = resources.files(__package__).joinpath("lua_sandbox.lua").read_text(encoding="utf-8")
    return _SETUP_CODE


class ScriptRunner:
    """Run Lua scripts, each in a fresh sandboxed runtime, against a LuaHost."""

    def __init__(self, host: LuaHost, limits: Limits | None = None) -> None:
        self.host = host
        self.limits = limits or Limits()

    def run(self, code: str, *, chunk_name: str = "script") -> RunResult:
        """Run a script and return its outcome; script errors are reported in the result, not raised."""
        started = time.monotonic()
        state = _Run(self.host, self.limits)
        runtime = state.runtime
        options = runtime.table_from(
            {
                "time_limit_message": state.time_message,
                "memory_limit_message": state.memory_message,
                "output_limit_message": limit_message(
                    "output", f"{self.limits.output_limit} bytes", "--output-limit"
                ),
                "output_limit": self.limits.output_limit,
                "memory_limit": self.limits.memory_limit,
                "memory_headroom": state.headroom,
                "hook_interval": _HOOK_INTERVAL,
            }
        )
        runner, holder = runtime.execute(
            _setup_code(),
            state.dispatch,
            state.deadline_passed,
            state.read_doc,
            state.json_encode,
            state.json_decode,
            options,
            name="=kosmo_sandbox",
        )
        state.deadline = time.monotonic() + self.limits.time_limit
        escaped: BaseException | None = None
        try:
            runner(code, "=" + chunk_name)
        except lupa.LuaMemoryError as exc:
            escaped = exc
        except lupa.LuaError as exc:
            escaped = exc
        except MemoryError as exc:
            escaped = exc
        memory_used = runtime.get_memory_used()
        # Lift the limit before reading results: a failed allocation during conversion aborts the process.
        runtime.set_max_memory(0)
        elapsed_ms = round((time.monotonic() - started) * 1000, 3)
        # Raw reads only: indexing a Lua table from Python would run lupa's call path.
        fields = dict(holder.items())
        # Output lines are plain strings that print stored at keys 1..n; no item cap applies to them.
        output = "\n".join(str(line) for _, line in sorted(fields["output"].items()))
        error, kind, result = self._outcome(state, fields, escaped)
        return RunResult(
            success=error is None,
            output=output,
            error=error,
            error_kind=kind,
            result=result,
            execution_time_ms=elapsed_ms,
            memory_usage=memory_used,
            integration_calls=state.calls,
        )

    def _outcome(
        self, state: _Run, holder: dict[str, Any], escaped: BaseException | None
    ) -> tuple[str | None, str | None, Any]:
        if state.timed_out:
            return state.time_message, "time_limit", None
        if holder["phase"] == "syntax":
            return f"syntax error: {holder['err']}", "syntax", None
        if isinstance(escaped, (lupa.LuaMemoryError, MemoryError)):
            return state.memory_message, "memory_limit", None
        if escaped is not None:
            return _clean_message(str(escaped)) or "script failed", "runtime", None
        if not holder["ok"]:
            err = holder["err"]
            if err == "not enough memory" or (isinstance(err, str) and err.startswith(state.memory_message)):
                return state.memory_message, "memory_limit", None
            if isinstance(err, str) and err.startswith("output limit of "):
                return _clean_message(err), "output_limit", None
            if lupa.lua_type(err) == "table":
                try:
                    text = json.dumps(lua_to_python(err, strict=False), ensure_ascii=False, sort_keys=True)
                except _ConversionError as exc:
                    text = f"(a table that cannot be shown: {exc})"
                return f"error object: {text}", "runtime", None
            return _clean_message("nil" if err is None else str(err)), "runtime", None
        try:
            values = lua_to_python(
                holder["values"], strict=False, empty_as_list=True, max_text_bytes=self.limits.result_limit
            )
        except _TextLimitError:
            message = limit_message("result", f"{self.limits.result_limit} bytes", "--result-limit")
            return f"{message} (the strings of the returned value add up to more)", "result_limit", None
        except _ConversionError as exc:
            return f"the returned value cannot be converted: {exc}", "runtime", None
        count = int(values.pop("n", 0)) if isinstance(values, dict) else len(values)
        if isinstance(values, dict):
            ordered = [values.get(str(index)) for index in range(1, count + 1)]
        else:
            ordered = list(values)
        if count == 0:
            result = None
        elif count == 1:
            result = ordered[0]
        else:
            result = ordered
        size = len(json.dumps(result, ensure_ascii=False, default=str))
        if size > self.limits.result_limit:
            message = limit_message("result", f"{self.limits.result_limit} bytes", "--result-limit")
            return f"{message} (the returned value is {size} bytes of JSON)", "result_limit", None
        return None, None, result


def _clean_message(text: str) -> str:
    """Drop a Lua traceback that lupa appends, keeping the error line itself."""
    return text.split("\nstack traceback:", 1)[0].strip()
