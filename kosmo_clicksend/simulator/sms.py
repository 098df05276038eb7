"""SMS endpoints of the simulator: POST /v3/sms/send, POST /v3/sms/price, GET /v3/sms/history."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from .api import (
    Context,
    bad_request,
    format_amount,
    history_date_bounds,
    paginate,
)
from .outbound import (
    Draft,
    apply_credit,
    apply_throttle,
    prepare_drafts,
    read_messages,
    send_summary,
)
from .pricing import sms_parts, sms_price
from .store import decimal_to_micros

__all__ = ["DELIVERY_DELAY_SECONDS", "sms_history", "sms_price_request", "sms_send"]

logger = logging.getLogger(__name__)

# Seconds of clock time after which a sent message counts as delivered. ClickSend's real
# delays vary, but a fixed delay keeps history reads deterministic.
DELIVERY_DELAY_SECONDS = 10

SEARCH_FIELDS = ("status", "to", "from", "message_id", "subaccount_id")
ORDER_FIELDS = ("date", "to", "from", "status", "body", "username")


def _price_drafts(ctx: Context, drafts: list[Draft]) -> None:
    for draft in drafts:
        if draft.accepted:
            draft.parts = sms_parts(draft.body, ctx.account.sms_part_limit).parts
            draft.price = sms_price(draft.country, draft.parts, draft.to)


def _custom_string(draft: Draft) -> str:
    value = draft.message.get("custom_string")
    return value if isinstance(value, str) else ""


def _rejected_message(draft: Draft, message_id: str) -> dict[str, Any]:
    return {
        "to": draft.to,
        "body": draft.body,
        "from": draft.sender,
        "schedule": "",
        "message_id": message_id,
        "message_parts": 0,
        "message_price": "0.0000",
        "custom_string": _custom_string(draft),
        "is_shared_system_number": draft.is_shared_sender,
        "country": draft.country,
        "carrier": draft.carrier,
        "status": draft.status,
    }


def _sent_message(ctx: Context, draft: Draft, message_id: str) -> dict[str, Any]:
    contact = draft.contact
    from_email = draft.message.get("from_email")
    return {
        "direction": "out",
        "date": ctx.now,
        "to": draft.to,
        "body": draft.body,
        "from": draft.sender,
        "schedule": draft.schedule or ctx.now,
        "message_id": message_id,
        "message_parts": draft.parts,
        "message_price": format_amount(draft.price),
        "from_email": from_email if isinstance(from_email, str) and from_email else None,
        # The spec types list_id and contact_id as strings in responses, unlike the request's numbers.
        "list_id": str(draft.list_id) if draft.list_id is not None else None,
        "custom_string": _custom_string(draft),
        "contact_id": str(contact["contact_id"]) if contact else None,
        "user_id": ctx.account.user_id,
        "subaccount_id": ctx.account.user_id,
        "is_shared_system_number": draft.is_shared_sender,
        "country": draft.country,
        "carrier": draft.carrier,
        "status": "SUCCESS",
    }


def _priced_message(draft: Draft, message_id: str) -> dict[str, Any]:
    # The price endpoint returns a shorter message object than send does.
    return {
        "to": draft.to,
        "body": draft.body,
        "from": draft.sender,
        "schedule": str(draft.schedule) if draft.schedule else "",
        "message_id": message_id,
        "message_parts": draft.parts,
        "message_price": format_amount(draft.price),
        "custom_string": _custom_string(draft),
        "is_shared_system_number": draft.is_shared_sender,
        "country": draft.country,
        "status": draft.status,
    }


def _history_record(ctx: Context, sent: dict[str, Any], draft: Draft) -> dict[str, Any]:
    record = dict(sent)
    record["custom_string"] = sent["custom_string"] or None
    record["first_name"] = draft.contact["first_name"] if draft.contact else None
    record["last_name"] = draft.contact["last_name"] if draft.contact else None
    record["_api_username"] = ctx.account.username
    return record


def sms_send(ctx: Context) -> tuple[str, Any]:
    """Queue SMS messages: charge the accepted ones and record them in history."""
    drafts = prepare_drafts(ctx, read_messages(ctx), shared_sender=True)
    apply_throttle(ctx, drafts, "sms")
    _price_drafts(ctx, drafts)
    total = apply_credit(ctx, drafts)

    messages = []
    for draft in drafts:
        message_id = ctx.store.new_message_id()
        if not draft.accepted:
            messages.append(_rejected_message(draft, message_id))
            continue
        sent = _sent_message(ctx, draft, message_id)
        messages.append(sent)
        ctx.store.add_message(ctx.account.user_id, "sms", ctx.now, message_id, _history_record(ctx, sent, draft))

    ctx.store.change_balance(ctx.account.user_id, -decimal_to_micros(total))
    logger.debug("SMS send for %s: %d messages, total %s", ctx.account.username, len(drafts), total)
    return "Messages queued for delivery.", send_summary(ctx, drafts, messages)


def sms_price_request(ctx: Context) -> tuple[str, Any]:
    """Price SMS messages without sending, charging or recording anything."""
    drafts = prepare_drafts(ctx, read_messages(ctx), shared_sender=True)
    _price_drafts(ctx, drafts)
    messages = [_priced_message(draft, ctx.store.new_message_id()) for draft in drafts]
    return "Here is some pricing.", send_summary(ctx, drafts, messages)


def delivery_status(now: int, date: int, schedule: int) -> tuple[str, str | None, str | None]:
    """Return (status, status_code, status_text) of a sent message at clock time now.

    A message scheduled in the future is Scheduled. Once due it is Queued with gateway
    code 200 (sent to the network) and, after DELIVERY_DELAY_SECONDS, Completed with code
    201 (delivered to the handset).
    """
    due = max(date, schedule)
    if now < due:
        return "Scheduled", None, None
    if now < due + DELIVERY_DELAY_SECONDS:
        return "Queued", "200", "Message sent to the network"
    return "Completed", "201", "Message delivered to the handset"


def _history_row(now: int, record: dict[str, Any]) -> dict[str, Any]:
    status, status_code, status_text = delivery_status(now, record["date"], record["schedule"])
    return {
        "direction": record["direction"],
        "date": record["date"],
        "to": record["to"],
        "body": record["body"],
        "status": status,
        "from": record["from"],
        "schedule": str(record["schedule"]),
        "status_code": status_code,
        "status_text": status_text,
        "error_code": None,
        "error_text": None,
        "message_id": record["message_id"],
        "message_parts": record["message_parts"],
        "message_price": format_amount(Decimal(record["message_price"]), 6),
        "from_email": record["from_email"],
        "list_id": record["list_id"],
        "custom_string": record["custom_string"],
        "contact_id": record["contact_id"],
        "user_id": record["user_id"],
        "subaccount_id": record["subaccount_id"],
        "country": record["country"],
        "carrier": record["carrier"],
        "first_name": record["first_name"],
        "last_name": record["last_name"],
        "_api_username": record["_api_username"],
    }


def _parse_search(text: str) -> list[tuple[str, str]]:
    """Parse q=field:value[,field:value] into (field, value) pairs, or raise 400 on an unknown field."""
    terms = []
    for term in text.split(","):
        if not term.strip():
            continue
        name, separator, value = term.partition(":")
        name = name.strip().lower()
        if not separator or name not in SEARCH_FIELDS:
            allowed = ", ".join(SEARCH_FIELDS)
            message = f"Invalid search term {term.strip()!r}. Use field:value with a field of {allowed}."
            raise bad_request({"q": message})
        terms.append((name, value.strip()))
    return terms


def _normalise_search_value(name: str, value: str) -> str:
    value = value.strip().lower()
    if name in ("to", "from"):
        # An unencoded "+" in a query string decodes to a space, so compare numbers without it.
        return value.lstrip("+ ")
    return value


def _matches(row: dict[str, Any], terms: list[tuple[str, str]], any_term: bool) -> bool:
    results = []
    for name, value in terms:
        actual = "" if row.get(name) is None else str(row[name])
        results.append(_normalise_search_value(name, actual) == _normalise_search_value(name, value))
    return any(results) if any_term else all(results)


def _parse_order(text: str) -> tuple[str, bool]:
    name, _, direction = text.strip().lower().partition(":")
    direction = direction or "asc"
    if name not in ORDER_FIELDS or direction not in ("asc", "desc"):
        allowed = ", ".join(ORDER_FIELDS)
        message = f"Invalid order_by {text!r}. Use field:asc or field:desc with a field of {allowed}."
        raise bad_request({"order_by": message})
    return name, direction == "desc"


def sms_history(ctx: Context) -> tuple[str, Any]:
    """List sent SMS with date, search and sort filters, one page at a time."""
    date_from, date_to = history_date_bounds(ctx)
    terms = _parse_search(ctx.query.get("q", ""))
    any_term = ctx.query.get("operator", "AND").strip().upper() == "OR"
    order_field, descending = _parse_order(ctx.query.get("order_by", "") or "date:asc")

    records = ctx.store.messages(ctx.account.user_id, "sms", date_from=date_from, date_to=date_to)
    rows = [_history_row(ctx.now, record) for record in records]
    if terms:
        rows = [row for row in rows if _matches(row, terms, any_term)]

    if order_field == "date":
        if descending:
            rows.reverse()
    else:
        key = "_api_username" if order_field == "username" else order_field
        rows.sort(key=lambda row: str(row[key] or "").lower(), reverse=descending)
    return "Here are your data.", paginate(ctx, rows)
