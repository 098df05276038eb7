"""Build request bodies in ClickSend's own field names from validated tool arguments.

The tools accept a few friendlier forms than ClickSend does (one email address as a string,
short letter address keys, a KosmoKrator ``template_id``); this module maps them to exactly
the fields ClickSend defines and never sends a field it does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ArgumentError
from .specs import LETTER_FIELD_ALIASES, MALE_ONLY_LANGUAGES

if TYPE_CHECKING:
    from .client import ClickSendClient

__all__ = ["email_body", "letter_body", "message_list_body", "resolve_return_address", "resolve_sender"]

# Pages of sender or return addresses read while looking for one; 100 rows each.
_MAX_LOOKUP_PAGES = 10


def _flag(value: Any) -> int:
    return 1 if value is True or value == 1 else 0


def _is_flag(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == ["boolean", "integer"]


def message_list_body(messages: list[dict[str, Any]], item_schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``{"messages": [...]}``, filling the defaults the item schema declares.

    The voice schema declares ``voice`` and ``lang`` defaults because ClickSend requires both;
    boolean flags are sent as the 0 or 1 ClickSend expects.
    """
    properties = item_schema.get("properties", {})
    defaults = {name: prop["default"] for name, prop in properties.items() if "default" in prop}
    flags = [name for name, prop in properties.items() if _is_flag(prop)]
    out = []
    for message in messages:
        item = {**defaults, **message}
        if "voice" in defaults and "voice" not in message and item.get("lang") in MALE_ONLY_LANGUAGES:
            item["voice"] = "male"
        for key in flags:
            if key in item:
                item[key] = _flag(item[key])
        out.append(item)
    return {"messages": out}


def _recipients(value: Any) -> list[dict[str, str]]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append({"email": item})
        else:
            entry = {"email": item["email"]}
            if item.get("name"):
                entry["name"] = item["name"]
            out.append(entry)
    return out


def email_body(args: dict[str, Any], email_address_id: int) -> dict[str, Any]:
    """Return the body of POST /email/send: ``to`` as ``[{email, name?}]`` and ``from`` as ``{email_address_id, name?}``."""
    sender: dict[str, Any] = {"email_address_id": email_address_id}
    if args.get("from_name"):
        sender["name"] = args["from_name"]
    body: dict[str, Any] = {"to": _recipients(args["to"]), "from": sender, "subject": args["subject"], "body": args["body"]}
    for key in ("cc", "bcc"):
        if key in args:
            body[key] = _recipients(args[key])
    if "schedule" in args:
        body["schedule"] = args["schedule"]
    return body


def letter_body(args: dict[str, Any], default_return_address: int | None) -> dict[str, Any]:
    """Return the body of POST /post/letters/send with recipients in ClickSend's address fields."""
    recipients = []
    for index, recipient in enumerate(args["recipients"], start=1):
        entry: dict[str, Any] = {}
        given_as: dict[str, str] = {}
        for key, value in recipient.items():
            target = LETTER_FIELD_ALIASES.get(key, key)
            if target in entry:
                first, second = sorted((given_as[target], key), key=len)
                raise ArgumentError(
                    "clicksend_send_post_letter",
                    [f"recipients[{index}] gives both {first} and {second}; keep one of them"],
                )
            entry[target] = value
            given_as[target] = key
        if "return_address_id" not in entry:
            entry["return_address_id"] = default_return_address
        entry["address_country"] = str(entry["address_country"]).upper()
        recipients.append(entry)
    template_used = args.get("template_id") is not None or _flag(args.get("template_used")) == 1
    body: dict[str, Any] = {
        "file_url": args["file_url"],
        "template_used": 1 if template_used else 0,
        "duplex": _flag(args.get("duplex")),
        "colour": _flag(args.get("colour")),
        "priority_post": _flag(args.get("priority_post")),
        "recipients": recipients,
    }
    if "source" in args:
        body["source"] = args["source"]
    return body


def _rows(result: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    data = result.get("data")
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        rows = [row for row in data["data"] if isinstance(row, dict)]
        return rows, bool(data.get("next_page_url"))
    if isinstance(data, list):
        return [row for row in data if isinstance(row, dict)], False
    return [], False


def _all_rows(tool: str, client: ClickSendClient, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in range(1, _MAX_LOOKUP_PAGES + 1):
        found, more = _rows(client.request(tool, "GET", path, params={"page": page, "limit": 100}))
        rows.extend(found)
        if not more:
            break
    return rows


def resolve_sender(tool: str, client: ClickSendClient, address: str | None) -> int:
    """Return the ``email_address_id`` of a verified sender address (GET /email/addresses).

    With no address, the account's first verified address is used. Raises ArgumentError when
    the address is unknown or unverified, listing the verified ones.
    """
    rows = _all_rows(tool, client, "/email/addresses")
    verified = [row for row in rows if str(row.get("verified")) in ("1", "True", "true")]
    verified_list = ", ".join(str(row.get("email_address")) for row in verified) or "none"
    if address is None:
        if not verified:
            raise ArgumentError(
                tool,
                ["the account has no verified sender address; add and verify one in ClickSend (Email > Addresses)"],
            )
        return int(verified[0]["email_address_id"])
    wanted = address.strip().lower()
    for row in rows:
        if str(row.get("email_address", "")).strip().lower() != wanted:
            continue
        if row in verified:
            return int(row["email_address_id"])
        raise ArgumentError(
            tool,
            [f"from_email_address {address!r} is not verified yet; verify it in ClickSend or use one of: {verified_list}"],
        )
    raise ArgumentError(
        tool,
        [f"from_email_address {address!r} is not a sender address of this account; use one of: {verified_list}"],
    )


def resolve_return_address(tool: str, client: ClickSendClient) -> int:
    """Return the id of the account's first return address (GET /post/return-addresses)."""
    rows = _all_rows(tool, client, "/post/return-addresses")
    for row in rows:
        if row.get("return_address_id") is not None:
            return int(row["return_address_id"])
    raise ArgumentError(
        tool,
        ["the account has no return address; add one in ClickSend (Post > Return Addresses) or give return_address_id"],
    )
