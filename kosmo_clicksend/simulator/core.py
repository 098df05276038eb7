"""An offline simulator of the ClickSend REST API v3, for tests and demos.

Modelled: HTTP Basic authentication (any new username and key opens an account), the
JSON envelope (http_code, response_code, response_msg, data), 404 for unknown paths and
405 for a wrong method, and these endpoints:

* ``GET /v3/account``
* SMS: ``POST /v3/sms/send``, ``POST /v3/sms/price``, ``GET /v3/sms/history``
* voice: ``POST /v3/voice/send``, ``POST /v3/voice/price``, ``GET /v3/voice/history``,
  ``GET /v3/voice/lang``
* email: ``GET|POST /v3/email/addresses``, ``POST /v3/email/send``, ``POST /v3/email/price``,
  ``GET /v3/email/history``
* post: ``GET|POST /v3/post/return-addresses``, ``POST /v3/post/letters/send``,
  ``POST /v3/post/letters/price``, ``GET /v3/post/letters/history``
* contact lists: ``GET /v3/lists``, ``GET /v3/lists/{list_id}``, ``GET /v3/lists/{list_id}/contacts``

Sends validate each message the way ClickSend reports problems (per-message status codes
inside HTTP 200), count SMS parts with the GSM-7 and Unicode rules, charge the balance
and record history. ClickSend's test numbers, test email recipients and test postal codes
cost nothing. History statuses move with the injected clock: a message is delivered
10 seconds after it is due.

Not modelled: webhooks, delivery receipts and inbound messages, real carriers and sender
registration, MMS, fax, campaigns, rate limits, and every endpoint not listed above.
All prices are made up. State lives in SQLite, in memory or in a file that survives restarts.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from . import account, mail, post, sms, voice
from .api import CURRENCIES, ApiError, Context, Handler
from .store import Account, Store, StoreClosedError, hash_api_key

__all__ = ["SimRequest", "SimResponse", "Simulator"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://rest.clicksend.com"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# ClickSend's documented test account that has no credit starts with a zero balance.
NO_CREDIT_USERNAME = "nocredit"

LIST_ID = r"(?P<list_id>[^/]+)"
ROUTE_TABLE: list[tuple[str, dict[str, Handler]]] = [
    (r"/v3/account", {"GET": account.account_view}),
    (r"/v3/sms/send", {"POST": sms.sms_send}),
    (r"/v3/sms/price", {"POST": sms.sms_price_request}),
    (r"/v3/sms/history", {"GET": sms.sms_history}),
    (r"/v3/voice/send", {"POST": voice.voice_send}),
    (r"/v3/voice/price", {"POST": voice.voice_price_request}),
    (r"/v3/voice/history", {"GET": voice.voice_history}),
    (r"/v3/voice/lang", {"GET": voice.voice_languages}),
    (r"/v3/email/addresses", {"GET": mail.email_addresses_list, "POST": mail.email_address_add}),
    (r"/v3/email/send", {"POST": mail.email_send}),
    (r"/v3/email/price", {"POST": mail.email_price_request}),
    (r"/v3/email/history", {"GET": mail.email_history}),
    (r"/v3/post/return-addresses", {"GET": post.return_addresses_list, "POST": post.return_address_add}),
    (r"/v3/post/letters/send", {"POST": post.letter_send}),
    (r"/v3/post/letters/price", {"POST": post.letter_price_request}),
    (r"/v3/post/letters/history", {"GET": post.letter_history}),
    (r"/v3/lists", {"GET": account.lists_list}),
    (rf"/v3/lists/{LIST_ID}", {"GET": account.list_view}),
    (rf"/v3/lists/{LIST_ID}/contacts", {"GET": account.list_contacts}),
]
ROUTES = [(re.compile(pattern), methods) for pattern, methods in ROUTE_TABLE]


@dataclass(frozen=True)
class SimRequest:
    """One HTTP request to the simulator.

    ``query`` contains decoded query parameters (the last value wins), ``headers`` has
    lower-case names, and ``base_url`` (scheme://host[:port]) prefixes pagination links.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    base_url: str = DEFAULT_BASE_URL


@dataclass(frozen=True)
class SimResponse:
    """One HTTP response of the simulator, whose ``body`` is always UTF-8 JSON."""

    status: int
    headers: dict[str, str]
    body: bytes


def _json_response(
    status: int, response_code: str, response_msg: str, data: Any, headers: Mapping[str, str] | None = None
) -> SimResponse:
    envelope = {"http_code": status, "response_code": response_code, "response_msg": response_msg, "data": data}
    all_headers = {"content-type": JSON_CONTENT_TYPE}
    all_headers.update(headers or {})
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return SimResponse(status=status, headers=all_headers, body=body)


def _error_response(error: ApiError) -> SimResponse:
    return _json_response(error.status, error.response_code, error.response_msg, error.data, error.headers)


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """Decode HTTP Basic credentials, splitting at the first colon. Return None if they are unusable."""
    lowered = {name.lower(): value for name, value in headers.items()}
    scheme, _, token = lowered.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, api_key = decoded.partition(":")
    if not separator or not username or not api_key:
        return None
    return username, api_key


def _normalise_path(path: str) -> str:
    path = path.split("?", 1)[0]
    if len(path) > 1:
        path = path.rstrip("/")
    return path


def _parse_body(request: SimRequest) -> dict[str, Any]:
    """Decode a JSON object body, where an empty body counts as {}. Raise 400 for anything else."""
    if not request.body.strip():
        return {}
    try:
        value = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "BAD_REQUEST", f"The request body is not valid JSON: {error}.") from error
    if not isinstance(value, dict):
        raise ApiError(400, "BAD_REQUEST", "The request body must be a JSON object.")
    return value


class Simulator:
    """An in-process ClickSend REST v3 server backed by SQLite.

    ``state_path`` None keeps state in memory. A path keeps it in a SQLite file, creating
    parent folders, and a new Simulator on the same file continues where the last one
    stopped. ``clock`` returns Unix seconds and supplies every timestamp. ``seed`` makes
    message ids reproducible. New accounts start with ``starting_balance`` in ``currency``
    and send local numbers to ``default_country``.
    Every request runs in one transaction, so the instance is safe to share between threads.
    """

    def __init__(
        self,
        state_path: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        starting_balance: str = "20.00",
        currency: str = "AUD",
        default_country: str = "AU",
    ) -> None:
        try:
            balance = Decimal(starting_balance)
        except InvalidOperation as error:
            raise ValueError(
                f"starting_balance must be a decimal amount such as '20.00', got {starting_balance!r}."
            ) from error
        if not balance.is_finite() or balance < 0:
            raise ValueError(f"starting_balance must be zero or more, got {starting_balance!r}.")
        if currency.upper() not in CURRENCIES:
            raise ValueError(f"currency must be one of {', '.join(sorted(CURRENCIES))}, got {currency!r}.")
        if not re.fullmatch(r"[A-Za-z]{2}", default_country):
            raise ValueError(f"default_country must be an ISO 3166 alpha-2 code such as 'AU', got {default_country!r}.")

        self._clock = clock
        self._starting_balance = balance
        self._currency = currency.upper()
        self._default_country = default_country.upper()
        self._store = Store(state_path, seed=seed)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the SQLite connection. Requests after close raise StoreClosedError, a RuntimeError."""
        self._store.close()

    def handle(self, request: SimRequest) -> SimResponse:
        """Handle one request the way ClickSend would, in a single SQLite transaction.

        Unexpected exceptions roll the transaction back and become a 500
        INTERNAL_SERVER_ERROR response.
        """
        now = int(self._clock())
        method = request.method.upper()
        path = _normalise_path(request.path)
        try:
            with self._store.transaction():
                return self._handle_in_transaction(request, method, path, now)
        except StoreClosedError:
            raise
        except Exception:
            logger.exception("Simulator failed on %s %s and rolled the transaction back", method, path)
            return _json_response(500, "INTERNAL_SERVER_ERROR", "Internal server error.", None)

    def _handle_in_transaction(self, request: SimRequest, method: str, path: str, now: int) -> SimResponse:
        # An ApiError becomes a response inside the transaction, so an account opened by
        # this request is kept. Handlers raise ApiError only before they write anything.
        try:
            user = self._authenticate(request.headers, now)
            handler, params = self._route(method, path)
            body = _parse_body(request) if method in ("POST", "PUT", "PATCH") else {}
            ctx = Context(
                store=self._store,
                account=user,
                now=now,
                path=path,
                query=request.query,
                body=body,
                base_url=request.base_url.rstrip("/"),
                params=params,
            )
            response_msg, data = handler(ctx)
        except ApiError as error:
            logger.debug("%s %s returned %d %s", method, path, error.status, error.response_code)
            return _error_response(error)
        return _json_response(200, "SUCCESS", response_msg, data)

    def _authenticate(self, headers: Mapping[str, str], now: int) -> Account:
        credentials = _basic_credentials(headers)
        if credentials is None:
            logger.info("Rejected a request without usable Basic credentials")
            raise ApiError(401, "UNAUTHORIZED", "Authorization failed.")
        username, api_key = credentials

        user = self._store.get_account(username)
        if user is None:
            balance = Decimal(0) if username == NO_CREDIT_USERNAME else self._starting_balance
            return self._store.create_account(
                username,
                api_key,
                now=now,
                balance=balance,
                currency=self._currency,
                default_country=self._default_country,
            )
        if not hmac.compare_digest(user.api_key_sha256, hash_api_key(api_key)):
            logger.info("Rejected a wrong API key for account %r", username)
            raise ApiError(401, "UNAUTHORIZED", "Authorization failed.")
        return user

    def _route(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        for pattern, methods in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = methods.get(method)
            if handler is None:
                allowed = ", ".join(sorted(methods))
                # ClickSend's docs disagree on the response_code of a 405: NOT_FOUND,
                # METHOD_NOT_FOUND and METHOD_NOT_ALLOWED all appear. This one is the clearest.
                raise ApiError(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"The {method} method is not allowed for {path}. Use {allowed}.",
                    headers={"allow": allowed},
                )
            return handler, match.groupdict()
        raise ApiError(404, "NOT_FOUND", f"The requested resource {path} was not found.")

    def account_state(self, username: str) -> dict[str, Any]:
        """Return an account's balance, currency and sent-message counts, for demos and tests.

        ``balance`` is a string with 6 decimals, as in GET /v3/account. Raises KeyError
        when no request has opened the account yet.
        """
        with self._store.transaction():
            user = self._store.get_account(username)
            if user is None:
                raise KeyError(f"No simulated account named {username!r}. Send a request with that username first.")
            return {
                "username": user.username,
                "balance": f"{user.balance:.6f}",
                "currency": user.currency,
                "sms_count": self._store.count_messages(user.user_id, "sms"),
                "voice_count": self._store.count_messages(user.user_id, "voice"),
                "email_count": self._store.count_messages(user.user_id, "email"),
                "letter_count": self._store.count_messages(user.user_id, "letter"),
            }
