"""An offline simulator of the ClickSend REST API v3, for tests, demos and dry runs.

Modelled: HTTP Basic authentication, where any new username and key opens an account and
ClickSend's test accounts nocredit, notactive and banned behave as ``auth`` describes. Also the
JSON envelope (http_code, response_code, response_msg, data), 404 for unknown paths and 405 for
a wrong method, an optional request budget (429 with Retry-After, see ``ratelimit``), faults
on demand (see ``faults``) and these endpoints:

* ``GET /v3/account``
* SMS: ``POST /v3/sms/send``, ``POST /v3/sms/price``, ``GET /v3/sms/history``
* voice: ``POST /v3/voice/send``, ``POST /v3/voice/price``, ``GET /v3/voice/history``,
  ``GET /v3/voice/lang``
* email: ``GET|POST /v3/email/addresses``, ``GET /v3/email/addresses/{id}``,
  ``PUT /v3/email/address-verify/{id}/send``, ``PUT /v3/email/address-verify/{id}/verify/{token}``,
  ``POST /v3/email/send``, ``POST /v3/email/price``, ``GET /v3/email/history``
* post: ``GET|POST /v3/post/return-addresses``, ``POST /v3/post/letters/send``,
  ``POST /v3/post/letters/price``, ``GET /v3/post/letters/history``
* contact lists: ``GET /v3/lists``, ``GET /v3/lists/{list_id}``, ``GET /v3/lists/{list_id}/contacts``

Sends validate each message the way ClickSend reports problems (per-message status codes
inside HTTP 200: INVALID_RECIPIENT, EMPTY_MESSAGE, INVALID_SENDER_ID, INVALID_SCHEDULE,
INVALID_VOICE, INVALID_LANG, COUNTRY_NOT_ENABLED, THROTTLED, INSUFFICIENT_CREDIT), count SMS
parts with the GSM-7 and Unicode rules up to the account's part cap, charge the balance and
record history. ClickSend's test numbers, test email recipients and test postal codes cost
nothing. History statuses move with the injected clock: a message is delivered 10 seconds
after it is due. Paths under ``/__simulator/`` control the simulator itself (see ``control``).

Not modelled: delivery receipts and webhooks, inbound messages, real carriers, real prices
(every rate is made up), sender registration, MMS, fax, campaigns, and every endpoint not
listed above. State lives in SQLite, in memory or in a file that survives restarts; fault
rules and rate-limit counters live in memory.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from . import account, mail, post, sms, voice
from .api import CURRENCIES, ApiError, Context, Handler
from .auth import AccountDefaults, authenticate, basic_credentials, check_account_status
from .faults import (
    FAULT_HEADER,
    Fault,
    FaultPlan,
    RateLimitSettings,
    Scenario,
    ScenarioError,
    parse_fault_header,
)
from .ratelimit import RateLimiter
from .store import ACCOUNT_STATUSES, Store, StoreClosedError

__all__ = ["SimRequest", "SimResponse", "Simulator"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://rest.clicksend.com"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

CONTROL_PREFIX = "/__simulator/"

LIST_ID = r"(?P<list_id>[^/]+)"
EMAIL_ADDRESS_ID = r"(?P<email_address_id>[^/]+)"
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
    (rf"/v3/email/addresses/{EMAIL_ADDRESS_ID}", {"GET": mail.email_address_view}),
    (rf"/v3/email/address-verify/{EMAIL_ADDRESS_ID}/send", {"PUT": mail.email_verification_send}),
    (
        rf"/v3/email/address-verify/{EMAIL_ADDRESS_ID}/verify/(?P<activation_token>[^/]+)",
        {"PUT": mail.email_address_verify},
    ),
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
    """One HTTP response of the simulator.

    ``fault`` is a transport fault the adapter must carry out (latency, connection_reset,
    read_timeout or response_lost). Status, headers and body are unused for a reset or a
    timeout. The body is UTF-8 JSON except for the http_502 and malformed_json faults.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    fault: Fault | None = None


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


HTML_502_BODY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
MALFORMED_JSON_BODY = b'{"http_code":200,"response_code":"SUCCESS","response_msg":"Here are your data.","data":{"total'


def _fault_response(fault: Fault) -> SimResponse:
    """Build the HTTP response of a fault that the transport does not carry out."""
    if fault.kind == "http_500":
        return _json_response(500, "INTERNAL_SERVER_ERROR", "Internal server error.", None)
    if fault.kind == "http_502":
        return SimResponse(502, {"content-type": "text/html"}, HTML_502_BODY)
    return SimResponse(200, {"content-type": JSON_CONTENT_TYPE}, MALFORMED_JSON_BODY)


class Simulator:
    """An in-process ClickSend REST v3 server backed by SQLite.

    ``state_path`` None keeps state in memory. A path keeps it in a SQLite file, creating
    parent folders, and a new Simulator on the same file continues where the last one
    stopped. ``clock`` returns Unix seconds and supplies every timestamp. ``seed`` makes
    message ids reproducible. New accounts start with ``starting_balance`` in ``currency``,
    send local numbers to ``default_country`` and may send abroad when ``global_sending``.
    ``rate_limit`` sets a request budget per account (none by default), and ``faults``
    contains the active fault rules.
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
        global_sending: bool = True,
        rate_limit: RateLimitSettings | None = None,
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
        self._defaults = AccountDefaults(balance, currency.upper(), default_country.upper(), global_sending)
        self._store = Store(state_path, seed=seed)
        self.faults = FaultPlan()
        self._rate_limiter: RateLimiter | None = None
        self.set_rate_limit(rate_limit)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the SQLite connection. Requests after close raise StoreClosedError, a RuntimeError."""
        self._store.close()

    @property
    def rate_limit(self) -> RateLimitSettings | None:
        """The request budget per account, or None when there is none."""
        return self._rate_limiter.settings if self._rate_limiter is not None else None

    def set_rate_limit(self, settings: RateLimitSettings | None) -> None:
        """Set a new request budget per account (None removes it); counting starts afresh."""
        self._rate_limiter = RateLimiter(settings) if settings is not None else None

    def apply_scenario(self, scenario: Scenario) -> None:
        """Add a scenario's fault rules and, when it sets one, its rate limit."""
        for rule in scenario.faults:
            self.faults.add(replace(rule))
        if scenario.rate_limit is not None:
            self.set_rate_limit(scenario.rate_limit)

    def now(self) -> int:
        """Return the simulator clock's time in whole Unix seconds."""
        return int(self._clock())

    def handle(self, request: SimRequest) -> SimResponse:
        """Handle one request the way ClickSend would, in a single SQLite transaction.

        Order: control paths, then the rate limit, then faults, then the API. Unexpected
        exceptions roll the transaction back and become a 500 INTERNAL_SERVER_ERROR response.
        """
        method = request.method.upper()
        path = _normalise_path(request.path)
        if path.startswith(CONTROL_PREFIX) or path + "/" == CONTROL_PREFIX:
            from .control import handle_control

            return handle_control(self, method, path, request.body)

        rate_headers: dict[str, str] = {}
        if self._rate_limiter is not None:
            decision = self._rate_limiter.check(_rate_limit_key(request.headers), self._clock())
            rate_headers = decision.headers()
            if not decision.allowed:
                message = f"Too many requests. Retry after {decision.reset_seconds} seconds."
                logger.info("Rate limit reached for %s %s", method, path)
                return _json_response(429, "TOO_MANY_REQUESTS", message, None, rate_headers)

        try:
            fault = self._select_fault(request, method, path)
        except ScenarioError as error:
            return _json_response(400, "BAD_REQUEST", f"Invalid X-Simulator-Fault header: {error}.", None, rate_headers)
        if fault is not None:
            logger.info("Injecting fault %s into %s %s", fault.kind, method, path)
            if not fault.is_transport:
                return _fault_response(fault)
            if fault.kind in ("connection_reset", "read_timeout"):
                return SimResponse(0, {}, b"", fault)

        response = self._handle_api(request, method, path)
        response.headers.update(rate_headers)
        return replace(response, fault=fault) if fault is not None else response

    def _select_fault(self, request: SimRequest, method: str, path: str) -> Fault | None:
        header = next((value for name, value in request.headers.items() if name.lower() == FAULT_HEADER), None)
        if header is not None and header.strip():
            return parse_fault_header(header)
        return self.faults.select(method, path)

    def _handle_api(self, request: SimRequest, method: str, path: str) -> SimResponse:
        now = self.now()
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
            user = authenticate(self._store, request.headers, now, self._defaults)
            check_account_status(user, method, path)
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

    def reset(self) -> None:
        """Delete every account and message, and clear the fault rules and rate-limit counters."""
        with self._store.transaction():
            self._store.reset()
        self.faults.clear()
        self.set_rate_limit(self.rate_limit)

    def account_state(self, username: str) -> dict[str, Any]:
        """Return an account's balance, settings, sent-message counts and pending verification tokens.

        ``balance`` is a string with 6 decimals, as in GET /v3/account. Raises KeyError
        when no request has opened the account yet.
        """
        with self._store.transaction():
            user = self._store.get_account(username)
            if user is None:
                raise KeyError(f"No simulated account named {username!r}. Send a request with that username first.")
            return self._describe(user.user_id)

    def account_states(self) -> list[dict[str, Any]]:
        """Return ``account_state`` of every account, oldest first."""
        with self._store.transaction():
            return [self._describe(user.user_id) for user in self._store.accounts()]

    def _describe(self, user_id: int) -> dict[str, Any]:
        user = self._store.get_account_by_id(user_id)
        return {
            "username": user.username,
            "balance": f"{user.balance:.6f}",
            "currency": user.currency,
            "status": user.status,
            "global_sending": bool(user.global_sending),
            "sms_part_limit": user.sms_part_limit,
            "sms_count": self._store.count_messages(user.user_id, "sms"),
            "voice_count": self._store.count_messages(user.user_id, "voice"),
            "email_count": self._store.count_messages(user.user_id, "email"),
            "letter_count": self._store.count_messages(user.user_id, "letter"),
            "email_verification_tokens": {
                row["email_address"]: row["token"] for row in self._store.pending_verifications(user.user_id)
            },
        }

    def update_account(
        self,
        username: str,
        *,
        balance: str | None = None,
        status: str | None = None,
        global_sending: bool | None = None,
        sms_part_limit: int | None = None,
    ) -> dict[str, Any]:
        """Change an existing account's balance, status, global sending or SMS part cap.

        Returns the new ``account_state``. Raises KeyError for an unknown account and
        ValueError for a value out of range.
        """
        amount = None
        if balance is not None:
            try:
                amount = Decimal(balance)
            except InvalidOperation as error:
                raise ValueError(f"balance must be a decimal amount such as '5.00', got {balance!r}.") from error
            if not amount.is_finite() or amount < 0:
                raise ValueError(f"balance must be zero or more, got {balance!r}.")
        if status is not None and status not in ACCOUNT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ACCOUNT_STATUSES)}, got {status!r}.")
        if sms_part_limit is not None and not 1 <= sms_part_limit <= 10:
            raise ValueError(f"sms_part_limit must be from 1 to 10, got {sms_part_limit!r}.")
        with self._store.transaction():
            user = self._store.get_account(username)
            if user is None:
                raise KeyError(f"No simulated account named {username!r}. Send a request with that username first.")
            self._store.update_account(
                user.user_id,
                balance=amount,
                status=status,  # type: ignore[arg-type]
                global_sending=global_sending,
                sms_part_limit=sms_part_limit,
            )
            return self._describe(user.user_id)


def _rate_limit_key(headers: Mapping[str, str]) -> str:
    credentials = basic_credentials(headers)
    return credentials[0] if credentials is not None else ""
