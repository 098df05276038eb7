"""HTTP client for ClickSend's REST API v3.

One ``ClickSendClient`` per account. It sends JSON with HTTP Basic auth (username and API key,
through httpx's auth support, so usernames that are email addresses need no escaping), and turns
every response into either ClickSend's decoded envelope or an error from ``errors``. The transport
is injectable: production uses httpx's default, the sandbox passes the simulator's transport and
tests pass respx or a MockTransport. The client never reads the environment.
"""

from __future__ import annotations

import json
import logging
import time
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from . import __version__
from .errors import ApiError, InvalidResponseError, RateLimitError, TransportError, api_error_for_status

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "ClickSendClient", "RetryPolicy"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://rest.clicksend.com/v3"
# Connect fast or fail; ClickSend can take several seconds to accept a batch of 1000 messages.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)
_BODY_START_CHARS = 200
_RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter; all times in seconds.

    ``attempts`` counts every try, the first included. A Retry-After longer than
    ``max_retry_after`` is not waited for: the RateLimitError goes to the caller instead.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def delay_for(self, error: Exception, attempt: int, *, safe: bool) -> float | None:
        """Return how long to wait before trying again after ``error``, or None to give up."""
        if attempt + 1 >= self.attempts:
            return None
        backoff = min(self.max_delay, self.base_delay * 2**attempt)
        # Equal jitter: half fixed, half random, so parallel clients spread out.
        jittered = backoff / 2 + random.uniform(0, backoff / 2)
        if isinstance(error, RateLimitError):
            if error.retry_after is None:
                return jittered
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        if isinstance(error, TransportError):
            return jittered if safe or not error.sent else None
        if isinstance(error, ApiError) and error.status in _RETRYABLE_STATUSES:
            return jittered if safe else None
        return None


class ClickSendClient:
    """Send requests to ClickSend for one account.

    ``transport`` replaces httpx's network transport (the simulator, respx, a MockTransport).
    The API key is kept only inside httpx's BasicAuth; ``repr`` shows the username alone.
    """

    def __init__(
        self,
        username: str,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        account: str = "default",
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.username = username
        self.account = account
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(username, api_key),
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": f"kosmo-clicksend/{__version__}"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ClickSendClient(account={self.account!r}, username={self.username!r}, base_url={self.base_url!r})"

    def __enter__(self) -> ClickSendClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        tool: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """Send a request, retrying where that is safe, and return ClickSend's decoded JSON envelope.

        ``idempotent`` (default: True for GET) marks reads and price calls. They are retried after
        connection errors, timeouts, 429 and 5xx responses. Anything else, such as a send, is retried
        only after 429 or when the request provably never left (connection refused, DNS failure),
        so a send can never go out twice. ``tool`` names the caller in errors and logs.

        Raises ``ApiError`` (or a subclass) for an HTTP error status or a body that is not a JSON
        object, and ``TransportError`` when no response arrived; ``TransportError.sent`` tells whether
        the request may have reached ClickSend.
        """
        safe = method == "GET" if idempotent is None else idempotent
        attempt = 0
        while True:
            try:
                return self._request_once(tool, method, path, params=params, body=body)
            except (ApiError, TransportError) as exc:
                delay = self.retry.delay_for(exc, attempt, safe=safe)
                if delay is None:
                    raise
                attempt += 1
                logger.info("%s %s %s: retry %d in %.1f s after %s", tool, method, path, attempt, delay, type(exc).__name__)
                self._sleep(delay)

    def _request_once(
        self, tool: str, method: str, path: str, *, params: Mapping[str, Any] | None, body: Any
    ) -> dict[str, Any]:
        started = time.monotonic()
        query = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            if body is None:
                response = self._http.request(method, path, params=query)
            else:
                response = self._http.request(
                    method,
                    path,
                    params=query,
                    content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                    headers={"Content-Type": "application/json"},
                )
        except httpx.TransportError as exc:
            logger.info("%s %s %s -> %s (account %s)", tool, method, path, type(exc).__name__, self.account)
            raise self._transport_error(tool, method, path, exc) from exc

        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "%s %s %s -> HTTP %d in %.0f ms (account %s)", tool, method, path, response.status_code, elapsed_ms, self.account
        )
        return self._decode(tool, response)

    def _transport_error(self, tool: str, method: str, path: str, exc: httpx.TransportError) -> TransportError:
        """Map an httpx failure to a TransportError that tells whether ClickSend may have received the request."""
        if isinstance(exc, httpx.TimeoutException):
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            return TransportError(
                f"{tool}: {method} {path} timed out ({type(exc).__name__})"
                + ("; ClickSend may have received the request, so check its history before sending again" if sent else ""),
                sent=sent,
            )
        if isinstance(exc, httpx.ConnectError):
            return TransportError(f"{tool}: could not connect to {self.base_url}: {exc}", sent=False)
        return TransportError(
            f"{tool}: the connection failed during {method} {path} ({type(exc).__name__}); "
            "ClickSend may have received the request, so check its history before sending again",
            sent=True,
        )

    @staticmethod
    def _decode(tool: str, response: httpx.Response) -> dict[str, Any]:
        try:
            payload = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        if not isinstance(payload, dict):
            start = response.content[:_BODY_START_CHARS * 4].decode("utf-8", errors="replace")[:_BODY_START_CHARS]
            raise InvalidResponseError(tool, response.status_code, start)
        if response.status_code >= 400:
            raise api_error_for_status(
                tool,
                response.status_code,
                payload.get("response_code"),
                _text_or_none(payload.get("response_msg")),
                payload.get("data"),
                _retry_after(response.headers.get("Retry-After")),
            )
        return payload


def _text_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _retry_after(value: str | None) -> float | None:
    """Read a Retry-After header given in seconds; an HTTP date or garbage gives None."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
