"""The simulator's own control API under ``/__simulator/``, for tests and demos.

These paths are not ClickSend's, need no credentials and return plain JSON (not ClickSend's
envelope); errors are ``{"error": "..."}`` with status 400, 404 or 405.

* ``GET /__simulator/faults`` lists the active fault rules, and ``DELETE`` removes them all.
* ``POST /__simulator/faults`` adds a rule, such as ``{"kind": "response_lost", "method": "POST",
  "path": "/v3/sms/send", "count": 1, "skip": 0}``.
* ``GET /__simulator/rate-limit`` reads the request budget. ``PUT`` sets it with
  ``{"requests": 5, "window": 10}``, and ``PUT`` with ``{}`` removes it.
* ``GET /__simulator/accounts`` lists every account's state, and ``GET`` on
  ``/__simulator/accounts/{username}`` returns one: balance, counts, settings and verification tokens.
* ``PATCH /__simulator/accounts/{username}`` changes ``balance``, ``status``, ``global_sending``
  or ``sms_part_limit``.
* ``POST /__simulator/reset`` deletes every account and message and clears the fault rules.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .faults import RateLimitSettings, ScenarioError, rule_from_mapping

if TYPE_CHECKING:
    from .core import SimResponse, Simulator

__all__ = ["handle_control"]

logger = logging.getLogger(__name__)

ACCOUNT_FIELDS = {"balance": str, "status": str, "global_sending": bool, "sms_part_limit": int}


class ControlError(Exception):
    """A control request that fails with an HTTP status and a message."""

    def __init__(self, status: int, message: str, allow: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.allow = allow


def _response(status: int, data: Any, headers: dict[str, str] | None = None) -> SimResponse:
    from .core import JSON_CONTENT_TYPE, SimResponse

    all_headers = {"content-type": JSON_CONTENT_TYPE, **(headers or {})}
    return SimResponse(status, all_headers, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ControlError(400, f"the request body is not valid JSON: {error}") from error
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ControlError(400, "the request body must be a JSON object")
    return value


def _require_method(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ControlError(405, f"{method} is not allowed here; use {', '.join(allowed)}", ", ".join(allowed))


def _faults(sim: Simulator, method: str, body: bytes) -> tuple[int, Any]:
    _require_method(method, ("DELETE", "GET", "POST"))
    if method == "POST":
        rule = rule_from_mapping(_json_object(body))
        sim.faults.add(rule)
        return 201, {"fault": rule.describe()}
    if method == "DELETE":
        sim.faults.clear()
    return 200, {"faults": [rule.describe() for rule in sim.faults.rules()]}


def _rate_limit(sim: Simulator, method: str, body: bytes) -> tuple[int, Any]:
    _require_method(method, ("GET", "PUT"))
    if method == "PUT":
        data = _json_object(body)
        if not data or data.get("requests") is None:
            sim.set_rate_limit(None)
        elif set(data) != {"requests", "window"}:
            raise ControlError(400, "send {\"requests\": N, \"window\": SECONDS}, or {} to remove the rate limit")
        else:
            sim.set_rate_limit(RateLimitSettings(data["requests"], data["window"]))
    settings = sim.rate_limit
    limit = {"requests": settings.requests, "window": settings.window} if settings is not None else None
    return 200, {"rate_limit": limit}


def _account(sim: Simulator, method: str, username: str, body: bytes) -> tuple[int, Any]:
    _require_method(method, ("GET", "PATCH"))
    try:
        if method == "GET":
            return 200, sim.account_state(username)
        changes = _json_object(body)
        for name, value in changes.items():
            expected = ACCOUNT_FIELDS.get(name)
            if expected is None:
                raise ControlError(400, f"unknown account field {name!r}; use {', '.join(ACCOUNT_FIELDS)}")
            if type(value) is not expected:
                raise ControlError(400, f"account field {name!r} must be a JSON {expected.__name__}, got {value!r}")
        return 200, sim.update_account(username, **changes)
    except KeyError as error:
        raise ControlError(404, str(error.args[0])) from error
    except ValueError as error:
        raise ControlError(400, str(error)) from error


def _dispatch(sim: Simulator, method: str, path: str, body: bytes) -> tuple[int, Any]:
    parts = [unquote(part) for part in path.split("/")[2:] if part]
    if parts == ["faults"]:
        return _faults(sim, method, body)
    if parts == ["rate-limit"]:
        return _rate_limit(sim, method, body)
    if parts == ["accounts"]:
        _require_method(method, ("GET",))
        return 200, {"accounts": sim.account_states()}
    if len(parts) == 2 and parts[0] == "accounts":
        return _account(sim, method, parts[1], body)
    if parts == ["reset"]:
        _require_method(method, ("POST",))
        sim.reset()
        return 200, {"reset": True}
    raise ControlError(404, f"no simulator control endpoint at {path}; see the simulator.control module")


def handle_control(sim: Simulator, method: str, path: str, body: bytes) -> SimResponse:
    """Handle one request to a ``/__simulator/`` path."""
    try:
        status, data = _dispatch(sim, method, path, body)
    except ScenarioError as error:
        return _response(400, {"error": str(error)})
    except ControlError as error:
        headers = {"allow": error.allow} if error.allow else None
        return _response(error.status, {"error": str(error)}, headers)
    logger.info("Simulator control %s %s -> %d", method, path, status)
    return _response(status, data)
