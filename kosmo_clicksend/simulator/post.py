"""Post endpoints of the simulator: return addresses (GET and POST /v3/post/return-addresses),
POST /v3/post/letters/send, POST /v3/post/letters/price and GET /v3/post/letters/history.

The simulator never fetches file_url, so every letter counts as 1 page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .api import (
    Context,
    bad_request,
    currency_object,
    format_amount,
    history_date_bounds,
    paginate,
    parse_flag,
    parse_int,
    price_number,
    text_value,
)
from .outbound import apply_credit, parse_schedule
from .pricing import letter_price
from .sms import DELIVERY_DELAY_SECONDS
from .store import decimal_to_micros

__all__ = [
    "letter_history",
    "letter_price_request",
    "letter_send",
    "return_address_add",
    "return_addresses_list",
]

logger = logging.getLogger(__name__)

ADDRESS_FIELDS = (
    "address_name",
    "address_line_1",
    "address_line_2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
)
RETURN_ADDRESS_REQUIRED = ("address_name", "address_line_1", "address_city", "address_postal_code", "address_country")
RECIPIENT_REQUIRED = RETURN_ADDRESS_REQUIRED + ("return_address_id",)
LETTER_FLAGS = ("template_used", "duplex", "colour", "priority_post")
PAGES_PER_LETTER = 1

# NOTE: ClickSend documents no status for an unknown return_address_id. The simulator
# invents this code in the style of ClickSend's application status codes.
INVALID_RETURN_ADDRESS = "INVALID_RETURN_ADDRESS"


def _address_text(source: dict[str, Any]) -> dict[str, str]:
    address = {name: text_value(source.get(name)) for name in ADDRESS_FIELDS}
    address["address_country"] = address["address_country"].upper()
    return address


def return_addresses_list(ctx: Context) -> tuple[str, Any]:
    """List the account's return addresses, one page at a time."""
    return "Here are your data.", paginate(ctx, ctx.store.return_addresses(ctx.account.user_id))


def return_address_add(ctx: Context) -> tuple[str, Any]:
    """Add a return address, which needs the five address fields ClickSend requires."""
    address = _address_text(ctx.body)
    problems = {name: f"The {name} field is required." for name in RETURN_ADDRESS_REQUIRED if not address[name]}
    if problems:
        raise bad_request(problems)
    row = ctx.store.add_return_address(ctx.account.user_id, address)
    return "New return address has been added.", row


@dataclass
class LetterDraft:
    """One recipient of a letter request, with its status and price."""

    recipient: dict[str, Any]
    address: dict[str, str] = field(default_factory=dict)
    return_address: dict[str, Any] | None = None
    schedule: int = 0
    status: str = "SUCCESS"
    price: Decimal = Decimal("0.0000")

    @property
    def accepted(self) -> bool:
        return self.status == "SUCCESS"

    def reject(self, status: str) -> None:
        """Mark the recipient rejected with a ClickSend status code and clear its price."""
        self.status = status
        self.price = Decimal("0.0000")


def _read_letter_options(ctx: Context) -> tuple[str, list[Any], dict[str, int]]:
    """Validate the top-level letter fields, or raise 400 BAD_REQUEST listing every invalid one."""
    problems: dict[str, str] = {}
    file_url = text_value(ctx.body.get("file_url"))
    if not file_url:
        problems["file_url"] = "The file_url field is required: the URL of the letter PDF."
    elif not file_url.lower().startswith(("http://", "https://")):
        problems["file_url"] = f"The file_url {file_url!r} must be an http or https URL."

    recipients = ctx.body.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        problems["recipients"] = "The recipients field is required: a list of at least 1 recipient address."
        recipients = []

    flags: dict[str, int] = {}
    for name in LETTER_FLAGS:
        value = parse_flag(ctx.body.get(name))
        if value is None:
            problems[name] = f"The {name} field must be 0 or 1."
        flags[name] = value or 0

    if problems:
        raise bad_request(problems)
    return file_url, recipients, flags


def _prepare_letter(ctx: Context, recipient: Any, flags: dict[str, int]) -> LetterDraft:
    if not isinstance(recipient, dict):
        return LetterDraft(recipient={}, address=_address_text({}), status="MISSING_REQUIRED_FIELDS")

    draft = LetterDraft(recipient=recipient, address=_address_text(recipient))
    missing = [name for name in RECIPIENT_REQUIRED if not text_value(recipient.get(name))]
    return_address_id = parse_int(recipient.get("return_address_id"))
    if return_address_id is not None:
        draft.return_address = ctx.store.return_address(ctx.account.user_id, return_address_id)
    schedule = parse_schedule(recipient.get("schedule"))

    if missing:
        draft.status = "MISSING_REQUIRED_FIELDS"
    elif draft.return_address is None:
        draft.status = INVALID_RETURN_ADDRESS
    elif schedule is None:
        draft.status = "INVALID_SCHEDULE"
    else:
        draft.schedule = schedule
        draft.price = letter_price(
            draft.address["address_postal_code"],
            colour=bool(flags["colour"]),
            priority_post=bool(flags["priority_post"]),
        )
    return draft


def _letter_row(
    ctx: Context, draft: LetterDraft, message_id: str, file_url: str, flags: dict[str, int]
) -> dict[str, Any]:
    recipient = draft.recipient
    custom_string = recipient.get("custom_string")
    row: dict[str, Any] = {
        "user_id": ctx.account.user_id,
        "subaccount_id": ctx.account.user_id,
        "message_id": message_id,
    }
    row.update(draft.address)
    row["return_address_id"] = parse_int(recipient.get("return_address_id"))
    row["custom_string"] = custom_string if isinstance(custom_string, str) else ""
    row["schedule"] = (draft.schedule or ctx.now) if draft.accepted else ""
    row["source"] = text_value(ctx.body.get("source")) or ".rest.v3"
    row["colour"] = flags["colour"]
    row["duplex"] = flags["duplex"]
    row["post_pages"] = PAGES_PER_LETTER if draft.accepted else 0
    row["post_price"] = format_amount(draft.price)
    row["priority_post"] = flags["priority_post"]
    row["date_added"] = ctx.now
    row["status"] = draft.status
    row["_file_url"] = file_url
    if draft.return_address is not None:
        row["_return_address"] = {
            key: draft.return_address[key] for key in ("return_address_id", "user_id") + ADDRESS_FIELDS
        }
    else:
        row["_return_address"] = None
    row["_api_username"] = ctx.account.username
    return row


def _letters(ctx: Context, *, send: bool) -> tuple[list[LetterDraft], list[dict[str, Any]], Decimal]:
    file_url, recipients, flags = _read_letter_options(ctx)
    drafts = [_prepare_letter(ctx, recipient, flags) for recipient in recipients]
    if send:
        total = apply_credit(ctx, drafts)
    else:
        total = sum((draft.price for draft in drafts if draft.accepted), Decimal("0.0000"))

    rows = []
    for draft in drafts:
        row = _letter_row(ctx, draft, ctx.store.new_message_id(), file_url, flags)
        rows.append(row)
        if send and draft.accepted:
            ctx.store.add_message(ctx.account.user_id, "letter", ctx.now, row["message_id"], row)
    return drafts, rows, total


def _summary(ctx: Context, drafts: list[LetterDraft], rows: list[dict[str, Any]], total: Decimal) -> dict[str, Any]:
    queued = sum(1 for draft in drafts if draft.accepted)
    return {
        "total_price": price_number(total),
        "total_count": len(drafts),
        "queued_count": queued,
        "blocked_count": len(drafts) - queued,
        "recipients": rows,
        "_currency": currency_object(ctx.account.currency),
    }


def letter_send(ctx: Context) -> tuple[str, Any]:
    """Queue letters: charge the accepted recipients and record them in history."""
    drafts, rows, total = _letters(ctx, send=True)
    ctx.store.change_balance(ctx.account.user_id, -decimal_to_micros(total))
    return "Letters queued for delivery.", _summary(ctx, drafts, rows, total)


def letter_price_request(ctx: Context) -> tuple[str, Any]:
    """Price letters without sending, charging or recording anything."""
    drafts, rows, total = _letters(ctx, send=False)
    data = _summary(ctx, drafts, rows, total)
    # ClickSend documents total_cost beside total_price for this endpoint.
    data["total_cost"] = data["total_price"]
    return "Here are some results.", data


def _history_row(ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    row = dict(record)
    due = max(record["date_added"], record["schedule"])
    if ctx.now < due:
        status, status_text = "Scheduled", "Scheduled for printing"
    elif ctx.now < due + DELIVERY_DELAY_SECONDS:
        status, status_text = "Queued", "Queued for printing"
    else:
        status, status_text = "Sent", "Letter posted"
    row["list_id"] = None
    row["status"] = status
    row["status_code"] = None
    row["status_text"] = status_text
    return row


def letter_history(ctx: Context) -> tuple[str, Any]:
    """List sent letters, filtered on date_added, one page at a time."""
    date_from, date_to = history_date_bounds(ctx)
    records = ctx.store.messages(ctx.account.user_id, "letter", date_from=date_from, date_to=date_to)
    return "Here are your data.", paginate(ctx, [_history_row(ctx, record) for record in records])
