"""Errors raised by kosmo_clicksend.

One small tree, so callers can catch as narrowly as they need::

    ClickSendError                 base of everything below
    ├── ArgumentError              arguments failed validation; nothing was sent
    ├── UnknownFunctionError       no tool or account under that Lua path
    ├── ConfigError                the config file or the environment is unusable
    ├── ApiError                   ClickSend responded with an error (status, response_code, response_msg)
    │   ├── AuthenticationError    HTTP 401
    │   ├── RateLimitError         HTTP 429, with retry_after in seconds when ClickSend sent one
    │   ├── InvalidResponseError   the body was not the JSON envelope ClickSend documents
    │   └── MessagesRefusedError   HTTP 200, but ClickSend refused every message of a send
    ├── BatchError                 a send split into batches failed part-way; says which messages were sent
    ├── PermissionDeniedError      the account may not do this, or nobody approved the write
    ├── SpendLimitError            the write would take the run past its spending cap; nothing was sent
    ├── TransportError             no response: connect failure, timeout, broken connection (keeps its cause)
    │   └── UnknownOutcomeError    a send's response was lost and the history does not settle what happened
    └── ScriptError                a Lua script failed: syntax, runtime error, time or memory limit

Every message is one line that names where it happened, what failed, the value and the fix.
No message ever contains an API key, an Authorization header or a whole response body.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "ArgumentError",
    "AuthenticationError",
    "BatchError",
    "ClickSendError",
    "ConfigError",
    "InvalidResponseError",
    "MessagesRefusedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ScriptError",
    "SpendLimitError",
    "TransportError",
    "UnknownFunctionError",
    "UnknownOutcomeError",
    "api_error_for_status",
]


class ClickSendError(Exception):
    """Base class of every error this package raises."""


class ArgumentError(ClickSendError):
    """Arguments of a tool call failed validation; no request was sent.

    ``problems`` contains one line per failing field, in the order of their JSON paths.
    """

    # Problems shown in the message; the rest are counted, so 1000 bad messages stay readable.
    SHOWN_PROBLEMS = 10

    def __init__(self, tool: str, problems: list[str]) -> None:
        self.tool = tool
        self.problems = list(problems)
        if len(self.problems) == 1:
            text = f"{tool}: {self.problems[0]}"
        else:
            shown = self.problems[: self.SHOWN_PROBLEMS]
            text = f"{tool}: {len(self.problems)} invalid arguments: " + " | ".join(shown)
            if len(self.problems) > len(shown):
                text += f" | and {len(self.problems) - len(shown)} more"
        super().__init__(text)


class UnknownFunctionError(ClickSendError):
    """A Lua path or CLI function name matches no tool, or names an account that is not configured."""


class ConfigError(ClickSendError):
    """The configuration file or the environment cannot be used as it is."""


class ApiError(ClickSendError):
    """ClickSend responded with an error status.

    ``status`` is the HTTP status, ``response_code`` and ``response_msg`` come from ClickSend's
    envelope (``response_code`` can be a number on some 400 responses), ``data`` is the envelope's
    ``data`` member, often a field-to-message map on validation errors.
    """

    def __init__(
        self,
        tool: str,
        status: int,
        response_code: str | int | None,
        response_msg: str | None,
        data: Any = None,
    ) -> None:
        self.tool = tool
        self.status = status
        self.response_code = response_code
        self.response_msg = response_msg
        self.data = data
        super().__init__(self._format())

    def _format(self) -> str:
        code = self.response_code if self.response_code is not None else "no response_code"
        text = f"{self.tool}: ClickSend responded with HTTP {self.status} {code}"
        if self.response_msg:
            text += f": {self.response_msg.rstrip('.')}"
        if isinstance(self.data, dict) and self.data and all(isinstance(v, (str, list)) for v in self.data.values()):
            fields = "; ".join(
                f"{key}: {' '.join(map(str, value)) if isinstance(value, list) else value}" for key, value in self.data.items()
            )
            text += f" ({fields})"
        hint = _STATUS_HINTS.get(self.status)
        if hint:
            text += f"; {hint}"
        return text


class AuthenticationError(ApiError):
    """HTTP 401: the username or API key is missing or wrong."""


class RateLimitError(ApiError):
    """HTTP 429: ClickSend's request budget is used up; ``retry_after`` is in seconds, or None."""

    def __init__(
        self,
        tool: str,
        status: int,
        response_code: str | int | None,
        response_msg: str | None,
        data: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(tool, status, response_code, response_msg, data)

    def _format(self) -> str:
        text = super()._format()
        if self.retry_after is not None:
            text += f" (Retry-After: {self.retry_after:g} s)"
        return text


class InvalidResponseError(ApiError):
    """The body was not ClickSend's JSON envelope, for example an HTML error page from a proxy.

    ``body_start`` contains the first 200 characters of the body, for the error message. A JSON
    response that lacks a member the tool needs passes ``problem`` instead, which names it.
    """

    def __init__(self, tool: str, status: int, body_start: str, *, problem: str | None = None) -> None:
        self.body_start = body_start
        self.problem = problem
        super().__init__(tool, status, None, None)

    def _format(self) -> str:
        if self.problem:
            return f"{self.tool}: ClickSend responded with HTTP {self.status}, but {self.problem}"
        shown = " ".join(self.body_start.split())
        return (
            f"{self.tool}: ClickSend responded with HTTP {self.status} and a body that is not JSON, "
            f"starting {shown!r}; the service or a proxy in between failed, try again later"
        )


class MessagesRefusedError(ApiError):
    """ClickSend responded with HTTP 200 but refused every message, so nothing was sent.

    ``refused`` lists ``{index, to, status, reason}`` for each message, ``index`` 1-based.
    """

    def __init__(self, tool: str, refused: list[dict[str, Any]], result: dict[str, Any]) -> None:
        self.refused = refused
        self.result = result
        super().__init__(tool, 200, result.get("response_code"), result.get("response_msg"), None)

    def _format(self) -> str:
        parts = [
            f"message {item['index']} to {item['to'] or '(no recipient)'}: {item['status']} ({item['reason']})"
            for item in self.refused
        ]
        count = len(self.refused)
        noun = "the only message" if count == 1 else f"all {count} messages"
        return f"{self.tool}: ClickSend refused {noun}, nothing was sent: " + "; ".join(parts)


class BatchError(ClickSendError):
    """A send of more than 1000 messages failed after its first batch went out.

    ``sent`` counts the messages of the batches that ClickSend accepted; ``result`` is their
    merged response. The message names the messages sent, failed or of unknown outcome, and not sent.
    """

    def __init__(self, tool: str, details: str, *, sent: int, result: dict[str, Any]) -> None:
        self.tool = tool
        self.sent = sent
        self.result = result
        super().__init__(f"{tool}: {details}")


class PermissionDeniedError(ClickSendError):
    """The account's permission for this operation is deny, or ask without anyone approving; nothing was sent."""


class SpendLimitError(ClickSendError):
    """A write would take the run's spend past the cap; nothing was sent."""


class TransportError(ClickSendError):
    """ClickSend could not be reached or did not respond in time; ``__cause__`` is the httpx error.

    ``sent`` is True when the request may have reached ClickSend (a read timeout, a connection
    lost after sending), so the outcome of a send is unknown rather than failed.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        self.sent = sent
        super().__init__(message)


class UnknownOutcomeError(TransportError):
    """A send may have reached ClickSend, and its history did not show every message; it was not sent again."""


class ScriptError(ClickSendError):
    """A Lua script failed: it did not compile, raised an error, or hit a time or memory limit.

    ``kind`` is one of ``syntax``, ``runtime``, ``time_limit``, ``memory_limit``, ``output_limit``.
    """

    def __init__(self, message: str, *, kind: str) -> None:
        self.kind = kind
        super().__init__(message)


_STATUS_HINTS = {
    401: "check the username and API key of this account (ClickSend dashboard, API Credentials)",
    403: "this account has no access to that resource",
    404: "the resource or endpoint does not exist",
    429: "too many requests; wait and try again",
}


def api_error_for_status(
    tool: str,
    status: int,
    response_code: str | int | None,
    response_msg: str | None,
    data: Any = None,
    retry_after: float | None = None,
) -> ApiError:
    """Build the ApiError subclass that fits an HTTP status."""
    if status == 401:
        return AuthenticationError(tool, status, response_code, response_msg, data)
    if status == 429:
        return RateLimitError(tool, status, response_code, response_msg, data, retry_after)
    return ApiError(tool, status, response_code, response_msg, data)
