"""HTTP client for ClickSend's REST API v3.

One ``ClickSendClient`` per account. It sends JSON with HTTP Basic auth (username and API key,
through httpx's auth support, so usernames that are email addresses need no escaping), and turns
every answer into either ClickSend's decoded envelope or an error from ``errors``. The transport
is injectable: production uses httpx's default, the sandbox passes the simulator's transport and
tests pass respx or a MockTransport. The client never reads the environment.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

from . import __version__
from .errors import InvalidResponseError, TransportError, api_error_for_status

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "ClickSendClient"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://rest.clicksend.com/v3"
# Connect fast or fail; ClickSend can take several seconds to accept a batch of 1000 messages.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)
_BODY_START_CHARS = 200


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
    ) -> None:
        self.username = username
        self.account = account
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
    ) -> dict[str, Any]:
        """Send one request and return ClickSend's decoded JSON envelope.

        ``tool`` names the caller in errors and logs. Raises ``ApiError`` (or a subclass) for an
        HTTP error status or a body that is not a JSON object, and ``TransportError`` when no
        answer arrived; ``TransportError.sent`` tells whether the request may have reached ClickSend.
        """
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
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            raise TransportError(
                f"{tool}: {method} {path} timed out ({type(exc).__name__})"
                + ("; ClickSend may have received the request, so check its history before sending again" if sent else ""),
                sent=sent,
            ) from exc
        except httpx.ConnectError as exc:
            raise TransportError(f"{tool}: could not connect to {self.base_url}: {exc}", sent=False) from exc
        except httpx.TransportError as exc:
            raise TransportError(
                f"{tool}: the connection failed during {method} {path} ({type(exc).__name__}); "
                "ClickSend may have received the request, so check its history before sending again",
                sent=True,
            ) from exc

        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "%s %s %s -> HTTP %d in %.0f ms (account %s)", tool, method, path, response.status_code, elapsed_ms, self.account
        )
        return self._decode(tool, response)

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
