"""Faults the simulator injects on demand, and the rules that choose a request to fault.

A fault is switched on in one of three ways, all checked by ``Simulator.handle``:

* the request header ``X-Simulator-Fault: KIND`` or ``KIND=SECONDS`` faults that one request;
* a rule added with ``Simulator.faults.add``, ``POST /__simulator/faults`` or a scenario file
  faults the requests that match its method and path, ``count`` times after ``skip`` of them;
* a scenario file (TOML or JSON) contains rules and a rate limit, read by ``load_scenario``.

Kinds and what the client receives:

* ``latency``: the normal response, ``delay`` seconds late (default 1).
* ``http_500``: HTTP 500 with ClickSend's envelope and INTERNAL_SERVER_ERROR.
* ``http_502``: HTTP 502 with an nginx-style HTML body, as from a gateway in front of ClickSend.
* ``malformed_json``: HTTP 200 whose ``application/json`` body is cut off mid-object.
* ``connection_reset``: the connection is reset (TCP RST) before any response.
* ``read_timeout``: no response. The server stalls until the client gives up, at most ``delay``
  seconds (default 300), and the in-process transport raises ``httpx.ReadTimeout`` at once.
* ``response_lost``: the request is handled and committed (recorded and charged), then the
  connection closes without a response.

Every kind except ``latency`` and ``response_lost`` responds before the request reaches the
simulated account, so nothing is recorded or charged.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import math
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "FAULT_HEADER",
    "FAULT_KINDS",
    "Fault",
    "FaultPlan",
    "FaultRule",
    "RateLimitSettings",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_fault_header",
    "parse_scenario",
]

logger = logging.getLogger(__name__)

FAULT_HEADER = "x-simulator-fault"
FAULT_KINDS = (
    "latency",
    "http_500",
    "http_502",
    "malformed_json",
    "connection_reset",
    "read_timeout",
    "response_lost",
)
# Kinds that the transport adapter carries out, as opposed to kinds that are plain HTTP responses.
TRANSPORT_KINDS = frozenset({"latency", "connection_reset", "read_timeout", "response_lost"})
DEFAULT_DELAYS = {"latency": 1.0, "read_timeout": 300.0}
MAX_DELAY_SECONDS = 3600.0


class ScenarioError(ValueError):
    """A fault rule, fault header or scenario file that cannot be used as written."""


@dataclass(frozen=True)
class Fault:
    """One fault to apply to one request. ``delay`` is in seconds and used by latency and read_timeout."""

    kind: str
    delay: float = 0.0

    @property
    def is_transport(self) -> bool:
        """Whether the transport adapter, not the HTTP response, carries out this fault."""
        return self.kind in TRANSPORT_KINDS


def _check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or kind not in FAULT_KINDS:
        raise ScenarioError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
    return kind


def _check_delay(kind: str, delay: Any) -> float:
    if delay is None:
        return DEFAULT_DELAYS.get(kind, 0.0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise ScenarioError(f"fault delay {delay!r} is not a number of seconds")
    if not math.isfinite(delay) or not 0 <= delay <= MAX_DELAY_SECONDS:
        raise ScenarioError(f"fault delay {delay!r} is out of range; use 0 to {MAX_DELAY_SECONDS:.0f} seconds")
    return float(delay)


def make_fault(kind: Any, delay: Any = None) -> Fault:
    """Validate a kind and delay and build a Fault, or raise ScenarioError."""
    checked = _check_kind(kind)
    return Fault(checked, _check_delay(checked, delay))


def parse_fault_header(value: str) -> Fault:
    """Parse the X-Simulator-Fault header: ``KIND`` or ``KIND=SECONDS``, such as ``latency=2.5``."""
    kind, separator, seconds = value.strip().partition("=")
    delay: float | None = None
    if separator:
        try:
            delay = float(seconds)
        except ValueError:
            raise ScenarioError(f"X-Simulator-Fault delay {seconds!r} is not a number of seconds") from None
    return make_fault(kind.strip(), delay)


@dataclass
class FaultRule:
    """Fault the requests that match ``method`` and ``path``.

    ``method`` None matches every method. ``path`` is an exact path or a shell-style pattern
    such as ``/v3/sms/*``; None matches every path. The rule lets ``skip`` matching requests
    through, then faults the next ``count`` of them (None: every one) and expires.
    """

    fault: Fault
    method: str | None = None
    path: str | None = None
    count: int | None = 1
    skip: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    def describe(self) -> dict[str, Any]:
        """Return the rule as the JSON object that ``rule_from_mapping`` reads."""
        return {
            "kind": self.fault.kind,
            "delay": self.fault.delay,
            "method": self.method,
            "path": self.path,
            "count": self.count,
            "skip": self.skip,
        }


def _optional_count(name: str, value: Any, *, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioError(f"fault {name} {value!r} must be a whole number of at least {minimum}")
    return value


def rule_from_mapping(item: Mapping[str, Any]) -> FaultRule:
    """Build a FaultRule from ``{kind, delay?, method?, path?, count?, skip?}``, or raise ScenarioError.

    ``count`` defaults to 1; ``count`` null (JSON) or 0 means every matching request.
    """
    known = {"kind", "delay", "method", "path", "count", "skip"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise ScenarioError(f"unknown fault field {unknown[0]!r}; use {', '.join(sorted(known))}")
    fault = make_fault(item.get("kind"), item.get("delay"))
    method = item.get("method")
    path = item.get("path")
    if method is not None and not isinstance(method, str):
        raise ScenarioError(f"fault method {method!r} must be a string such as 'POST'")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        raise ScenarioError(f"fault path {path!r} must start with '/', such as '/v3/sms/send'")
    count = _optional_count("count", item.get("count", 1), minimum=0)
    skip = _optional_count("skip", item.get("skip", 0), minimum=0) or 0
    return FaultRule(fault, method.upper() if method else None, path, count or None, skip)


class FaultPlan:
    """The active fault rules of one simulator, safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        """Add a rule after the existing ones; the first matching rule wins."""
        with self._lock:
            self._rules.append(rule)
        logger.info("Added fault rule %s", rule.describe())

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        """Return a copy of the active rules."""
        with self._lock:
            return [replace(rule) for rule in self._rules]

    def select(self, method: str, path: str) -> Fault | None:
        """Return the fault for this request, if a rule fires, and update that rule's counters."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    return None
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                return rule.fault
        return None


@dataclass(frozen=True)
class RateLimitSettings:
    """A request budget: at most ``requests`` per account in each window of ``window`` seconds."""

    requests: int
    window: float

    def __post_init__(self) -> None:
        if isinstance(self.requests, bool) or not isinstance(self.requests, int) or self.requests < 1:
            raise ScenarioError(f"rate limit requests {self.requests!r} must be a whole number of at least 1")
        if isinstance(self.window, bool) or not isinstance(self.window, (int, float)) or not 0 < self.window <= 86400:
            raise ScenarioError(f"rate limit window {self.window!r} must be a number of seconds from 1 to 86400")


@dataclass(frozen=True)
class Scenario:
    """Fault rules and an optional rate limit, as read from a scenario file."""

    faults: tuple[FaultRule, ...] = ()
    rate_limit: RateLimitSettings | None = None


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """Build a Scenario from ``{"faults": [rule, ...], "rate_limit": {"requests": N, "window": S}}``."""
    unknown = sorted(set(data) - {"faults", "rate_limit"})
    if unknown:
        raise ScenarioError(f"unknown scenario key {unknown[0]!r}; use faults and rate_limit")
    items = data.get("faults", [])
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise ScenarioError("scenario faults must be a list of tables, such as [[faults]] in TOML")
    rules = tuple(rule_from_mapping(item) for item in items)

    rate_limit = None
    limit = data.get("rate_limit")
    if limit is not None:
        if not isinstance(limit, Mapping) or set(limit) != {"requests", "window"}:
            raise ScenarioError("scenario rate_limit must have exactly the keys requests and window")
        rate_limit = RateLimitSettings(limit["requests"], limit["window"])
    return Scenario(rules, rate_limit)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file: JSON when its name ends in ``.json``, TOML otherwise.

    Raises ScenarioError (a ValueError) for a file that cannot be read or used.
    """
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read scenario file {file_path}: {error.strerror or error}") from error
    try:
        data = json.loads(text) if file_path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise ScenarioError(f"scenario file {file_path} is not valid: {error}") from error
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario file {file_path} must contain an object at the top level")
    return parse_scenario(data)
