"""What each tool does: validated arguments in, ClickSend requests out, results with additions back.

``ClickSendService`` owns one client per configured account and is what the Lua runtime and the
CLI call. Each tool validates its arguments against its spec before any request, maps them to the
fields ClickSend defines (``payloads``), and adds to ClickSend's envelope what scripts need and
ClickSend does not give directly: ``balance`` and ``currency`` for the balance, and ``refused`` for
messages ClickSend declined inside an HTTP 200 response.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .client import DEFAULT_BASE_URL, ClickSendClient, RetryPolicy
from .config import Account
from .dates import resolve_time_zone, to_unix_seconds
from .errors import ArgumentError, InvalidResponseError, MessagesRefusedError, UnknownFunctionError
from .batches import prepare_messages, send_in_batches
from .history import read_pages
from .payloads import email_body, letter_body, resolve_return_address, resolve_sender
from .specs import NAMESPACE, REGISTRY, Registry, ToolSpec
from .validation import validate_arguments

__all__ = ["ClickSendService", "ToolCall", "refusal_reason"]

logger = logging.getLogger(__name__)

_REFUSAL_REASONS = {
    "INVALID_RECIPIENT": "the recipient number is not valid",
    "THROTTLED": "the same text went to this recipient moments ago; wait a few seconds",
    "INVALID_SENDER_ID": "the sender id is not allowed: an alpha tag has 3 to 11 letters or digits and no spaces",
    "INSUFFICIENT_CREDIT": "the account has not enough credit",
    "EMPTY_MESSAGE": "the message body is empty",
    "TOO_MANY_RECIPIENTS": "too many recipients in one request",
    "MISSING_REQUIRED_FIELDS": "a required field is missing",
    "INVALID_SCHEDULE": "the schedule is not a valid Unix time",
    "NOT_ENOUGH_PERMISSION_TO_LIST_ID": "the account has no access to that contact list",
    "INTERNAL_ERROR": "ClickSend had an internal error",
    "INVALID_LANG": "the voice language is not supported",
    "INVALID_VOICE": "the voice must be female or male, and the language must offer it",
    "COUNTRY_NOT_ENABLED": "sending to this country is not enabled for the account (global sending)",
    "REGISTRATION_NEEDED": "the sender or number must be registered first",
    "ACCOUNT_NOT_ACTIVATED": "the account is not activated",
    "SOMETHING_IS_WRONG": "ClickSend reported an unspecified error",
}


def refusal_reason(status: str) -> str:
    """Return a plain-words reason for a ClickSend per-message status code."""
    return _REFUSAL_REASONS.get(status, f"ClickSend refused it with status {status}")


@dataclass(frozen=True)
class ToolCall:
    """A resolved call target: the tool's spec and the account alias it runs under."""

    spec: ToolSpec
    account: str


class ClickSendService:
    """Run ClickSend tools for a set of accounts.

    ``transport_factory`` builds the httpx transport of each account's client (None means the
    network); the sandbox passes one that returns the simulator's transport.
    """

    def __init__(
        self,
        accounts: Mapping[str, Account],
        *,
        base_url: str | None = None,
        time_zone: str = "UTC",
        transport_factory: Callable[[], httpx.BaseTransport] | None = None,
        timeout: httpx.Timeout | float | None = None,
        registry: Registry = REGISTRY,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._accounts = dict(accounts)
        self._base_url = base_url or DEFAULT_BASE_URL
        self._zone = resolve_time_zone(time_zone)
        self._transport_factory = transport_factory
        self._timeout = timeout
        self._retry = retry
        self._sleep = sleep
        self.registry = registry
        self._clients: dict[str, ClickSendClient] = {}
        self._account_countries: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"ClickSendService(accounts={self.aliases!r}, base_url={self._base_url!r})"

    @property
    def aliases(self) -> list[str]:
        """Return the configured account aliases, default first."""
        return sorted(self._accounts, key=lambda alias: (alias != "default", alias))

    def close(self) -> None:
        """Close every client's connections."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def client(self, account: str) -> ClickSendClient:
        """Return the client of an account, creating it on first use."""
        client = self._clients.get(account)
        if client is None:
            if account not in self._accounts:
                raise UnknownFunctionError(self._unknown_account_message(account))
            credentials = self._accounts[account]
            options: dict[str, Any] = {"base_url": self._base_url, "account": account}
            if self._timeout is not None:
                options["timeout"] = self._timeout
            if self._transport_factory is not None:
                options["transport"] = self._transport_factory()
            if self._retry is not None:
                options["retry"] = self._retry
            if self._sleep is not None:
                options["sleep"] = self._sleep
            client = ClickSendClient(credentials.username, credentials.api_key, **options)
            self._clients[account] = client
        return client

    def _unknown_account_message(self, account: str) -> str:
        configured = ", ".join(self.aliases) or "none"
        return (
            f"Unknown account '{account}' in app.integrations.{NAMESPACE}.{account}; configured accounts: {configured}. "
            "Add it as [accounts." + account + "] in the config file"
        )

    # Resolution of names -------------------------------------------------------------------

    def resolve_path(self, path: str) -> ToolCall:
        """Resolve a Lua path such as ``integrations.clicksend.work.sms`` to a tool and an account.

        A leading ``app.`` is accepted. Raises UnknownFunctionError naming close function names
        or the configured accounts.
        """
        full = path[4:] if path.startswith("app.") else path
        prefix = f"integrations.{NAMESPACE}"
        shown = f"app.{full}"
        if full != prefix and not full.startswith(prefix + "."):
            raise UnknownFunctionError(f"Unknown function: {shown}; ClickSend functions live under app.{prefix}")
        parts = full[len(prefix) + 1 :].split(".") if full != prefix else []
        if len(parts) == 1 and parts[0]:
            spec = self.registry.get(parts[0])
            if spec is not None:
                return ToolCall(spec, "default")
            if parts[0] in self._accounts:
                raise UnknownFunctionError(
                    f"Unknown function: {shown} is an account namespace; call a function in it, such as {shown}.sms{{...}}"
                )
            raise UnknownFunctionError(self._unknown_function_message(shown, parts[0]))
        if len(parts) == 2 and all(parts):
            account, name = parts
            spec = self.registry.get(name)
            if account not in self._accounts and account != "default":
                if spec is None:
                    raise UnknownFunctionError(self._unknown_function_message(shown, f"{account}.{name}"))
                raise UnknownFunctionError(self._unknown_account_message(account))
            if spec is None:
                raise UnknownFunctionError(self._unknown_function_message(shown, name))
            return ToolCall(spec, account)
        raise UnknownFunctionError(f"Unknown function: {shown}; call app.{prefix}.<function>{{...}} or app.{prefix}.<account>.<function>{{...}}")

    def resolve_name(self, name: str, account: str | None = None) -> ToolCall:
        """Resolve a CLI function name (tool name, short name or full name) and an optional account."""
        spec = self.registry.get(name.removeprefix("app.integrations.").removeprefix("integrations."))
        if spec is None:
            close = self.registry.suggest(name.rsplit(".", 1)[-1])
            hint = f". Did you mean: {', '.join(close)}" if close else ""
            raise UnknownFunctionError(f"Unknown function: {name}{hint}")
        alias = account or "default"
        if alias not in self._accounts:
            raise UnknownFunctionError(self._unknown_account_message(alias))
        return ToolCall(spec, alias)

    def _unknown_function_message(self, shown: str, name: str) -> str:
        close = self.registry.suggest(name.rsplit(".", 1)[-1])
        text = f"Unknown function: {shown}"
        if close:
            text += f". Did you mean: {', '.join(close)}"
        return text

    # Running tools ---------------------------------------------------------------------------

    def call(self, target: ToolCall, arguments: Any) -> dict[str, Any]:
        """Validate the arguments, run the tool and return its result.

        Raises ArgumentError before any request when the arguments are invalid; ApiError,
        TransportError or MessagesRefusedError when ClickSend fails or refuses.
        """
        spec = target.spec
        args = validate_arguments(spec, arguments)
        handler = _HANDLERS[spec.name]
        if target.account not in self._accounts:
            raise UnknownFunctionError(self._unknown_account_message(target.account))
        return handler(self, spec, self.client(target.account), args)

    def price(self, target: ToolCall, arguments: Any) -> dict[str, Any]:
        """Price a write through ClickSend's price endpoint for the same body; nothing is sent.

        Raises ArgumentError for invalid arguments or a tool without a price endpoint.
        """
        spec = target.spec
        if spec.price_path is None:
            raise ArgumentError(spec.name, ["this tool has no price endpoint"])
        args = validate_arguments(spec, arguments)
        pricing = dataclasses.replace(spec, path=spec.price_path, operation="read")
        return _HANDLERS[spec.name](self, pricing, self.client(target.account), args)

    def find_in_history(self, target: ToolCall, custom_strings: list[str], *, since: float, until: float) -> dict[str, dict[str, Any]]:
        """Return the history rows of a write's messages, keyed by their custom_string.

        Reads up to 10 pages of 100 rows between ``since`` and ``until`` (Unix seconds). Tools
        without a history (email) return an empty mapping.
        """
        spec = target.spec
        if spec.history_path is None or not custom_strings:
            return {}
        wanted = set(custom_strings)
        client = self.client(target.account)
        found: dict[str, dict[str, Any]] = {}
        for page in range(1, 11):
            result = client.request(
                spec.name,
                "GET",
                spec.history_path,
                params={"date_from": int(since), "date_to": int(until), "page": page, "limit": 100},
            )
            data = result.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("data"), list):
                break
            rows = data["data"]
            for row in rows:
                tag = row.get("custom_string") if isinstance(row, dict) else None
                if tag in wanted:
                    found[str(tag)] = row
            if len(found) == len(wanted) or not data.get("next_page_url"):
                break
        return found

    # Handlers --------------------------------------------------------------------------------

    def _balance(self, spec: ToolSpec, client: ClickSendClient, args: dict[str, Any]) -> dict[str, Any]:
        result = client.request(spec.name, spec.method, spec.path)
        data = result.get("data")
        if not isinstance(data, dict) or "balance" not in data:
            raise InvalidResponseError(spec.name, 200, "", problem="its account data has no balance")
        _redact_account(data)
        try:
            balance = float(data["balance"])
        except (TypeError, ValueError) as exc:
            raise InvalidResponseError(
                spec.name, 200, "", problem=f"its balance {data['balance']!r} is not a number"
            ) from exc
        result["balance"] = balance
        result["currency"] = _currency_code(data)
        return result

    def _paged(self, spec: ToolSpec, client: ClickSendClient, args: dict[str, Any]) -> dict[str, Any]:
        return read_pages(spec, client, args, self._zone)

    def _default_country(self, spec: ToolSpec, client: ClickSendClient) -> str | None:
        """Return the country for local numbers: the configured one, else the account's default_country_sms."""
        account = self._accounts[client.account]
        if account.default_country:
            return account.default_country
        if client.account not in self._account_countries:
            data = client.request(spec.name, "GET", "/account").get("data")
            country = data.get("default_country_sms") if isinstance(data, dict) else None
            self._account_countries[client.account] = str(country).upper() if country else None
        return self._account_countries[client.account]

    def _messages(self, spec: ToolSpec, client: ClickSendClient, args: dict[str, Any]) -> dict[str, Any]:
        prepared = prepare_messages(
            spec, args["messages"], default_country=lambda: self._default_country(spec, client), zone=self._zone
        )
        result = send_in_batches(spec, client, prepared.messages)
        refused = _refused(result, "messages", prepared.messages, recipient_key="to")
        result["refused"] = refused
        result["normalized"] = prepared.normalized
        result["body_encoding"] = prepared.body_encoding
        if spec.operation == "write":
            _raise_if_all_refused(spec, result, refused)
        return result

    def _email(self, spec: ToolSpec, client: ClickSendClient, args: dict[str, Any]) -> dict[str, Any]:
        if "schedule" in args:
            args = {**args, "schedule": to_unix_seconds(args["schedule"], self._zone, end_of_day=False)}
        sender_id = resolve_sender(spec.name, client, args.get("from_email_address"))
        body = email_body(args, sender_id)
        return client.request(spec.name, spec.method, spec.path, body=body, idempotent=spec.operation == "read")

    def _letter(self, spec: ToolSpec, client: ClickSendClient, args: dict[str, Any]) -> dict[str, Any]:
        recipients = [
            {**item, "schedule": to_unix_seconds(item["schedule"], self._zone, end_of_day=False)} if "schedule" in item else item
            for item in args["recipients"]
        ]
        args = {**args, "recipients": recipients}
        # Built once before any request so that a recipient giving both forms of a field fails first.
        body = letter_body(args, args.get("return_address_id"))
        if any(recipient["return_address_id"] is None for recipient in body["recipients"]):
            default_return = resolve_return_address(spec.name, client)
            body = letter_body(args, default_return)
        result = client.request(spec.name, spec.method, spec.path, body=body, idempotent=spec.operation == "read")
        refused = _refused(result, "recipients", body["recipients"], recipient_key="address_name")
        result["refused"] = refused
        if spec.operation == "write":
            _raise_if_all_refused(spec, result, refused)
        return result


_HANDLERS: dict[str, Callable[[ClickSendService, ToolSpec, ClickSendClient, dict[str, Any]], dict[str, Any]]] = {
    "clicksend_get_account_balance": ClickSendService._balance,
    "clicksend_get_email_history": ClickSendService._paged,
    "clicksend_get_sms_history": ClickSendService._paged,
    "clicksend_get_sms_price": ClickSendService._messages,
    "clicksend_get_voice_history": ClickSendService._paged,
    "clicksend_list_contact_lists": ClickSendService._paged,
    "clicksend_send_email": ClickSendService._email,
    "clicksend_send_post_letter": ClickSendService._letter,
    "clicksend_send_sms": ClickSendService._messages,
    "clicksend_send_voice": ClickSendService._messages,
}


def _redact_account(data: dict[str, Any]) -> None:
    """Remove the API key that GET /account echoes in data._subaccount.api_key."""
    sub = data.get("_subaccount")
    if isinstance(sub, dict) and "api_key" in sub:
        sub["api_key"] = "<redacted>"


def _currency_code(data: Mapping[str, Any]) -> str | None:
    for key in ("_currency", "currency"):
        currency = data.get(key)
        if isinstance(currency, dict) and currency.get("currency_name_short"):
            return str(currency["currency_name_short"])
        if isinstance(currency, str) and currency:
            return currency
    return None


def _refused(result: Mapping[str, Any], member: str, sent: list[dict[str, Any]], *, recipient_key: str) -> list[dict[str, Any]]:
    """List the items of a send or price response whose status is not SUCCESS, with 1-based indexes."""
    data = result.get("data")
    items = data.get(member) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    refused = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        status = str(item.get("status") or "")
        if status == "SUCCESS":
            continue
        fallback = sent[position].get(recipient_key) if position < len(sent) else None
        refused.append(
            {
                "index": position + 1,
                "to": item.get(recipient_key) or fallback or "",
                "status": status or "UNKNOWN",
                "reason": refusal_reason(status) if status else "ClickSend gave no status for it",
            }
        )
    return refused


def _raise_if_all_refused(spec: ToolSpec, result: dict[str, Any], refused: list[dict[str, Any]]) -> None:
    data = result.get("data")
    if not isinstance(data, dict) or not refused:
        return
    member = "recipients" if "recipients" in data else "messages"
    items = data.get(member)
    if isinstance(items, list) and len(refused) == len(items):
        logger.info("%s: ClickSend rejected all %d items; nothing was sent", spec.name, len(items))
        raise MessagesRefusedError(spec.name, refused, result)
