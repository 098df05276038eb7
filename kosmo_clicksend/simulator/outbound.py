"""Validation shared by the SMS and voice endpoints: the messages array, list expansion,
recipients, sender ids, schedules, global sending, throttling and the credit check.

Each message becomes one or more drafts (a list_id expands to one draft per contact). A
draft that fails a check keeps its ClickSend status code, such as INVALID_RECIPIENT, and
is reported inside a 200 response like ClickSend does.

ClickSend's test numbers are exempt from COUNTRY_NOT_ENABLED and THROTTLED, because ClickSend
documents that they always succeed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, carrier

from .api import (
    Context,
    bad_request,
    currency_object,
    parse_int,
    price_number,
    text_value,
)
from .pricing import is_test_phone_number
from .store import Channel, decimal_to_micros

__all__ = [
    "MAX_MESSAGES",
    "THROTTLE_SECONDS",
    "Draft",
    "PhoneTarget",
    "apply_credit",
    "apply_throttle",
    "parse_phone_number",
    "parse_schedule",
    "prepare_drafts",
    "read_messages",
    "resolve_sender",
]

logger = logging.getLogger(__name__)

MAX_MESSAGES = 1000
SUCCESS = "SUCCESS"
# ClickSend refuses the same body to the same recipient "a moment" after the last one and
# tells the sender to retry in a few seconds, with no number. The simulator's window is 5 seconds.
THROTTLE_SECONDS = 5

# Made-up shared sender numbers, used when a message has no "from". The US and GB numbers
# are in ranges reserved for fiction (555-01XX and Ofcom's 07700 900XXX).
SHARED_NUMBERS = {"US": "+14055550100", "CA": "+14055550100", "GB": "+447700900000"}
DEFAULT_SHARED_NUMBER = "+61480000000"

NUMERIC_SENDER = re.compile(r"^\+?[0-9]+$")
# Alpha tags: 3 to 11 of a-z, A-Z, 0-9 and "+". All-digit senders are phone numbers and
# are matched by NUMERIC_SENDER first, so a tag that reaches this pattern has a non-digit.
ALPHA_TAG = re.compile(r"^[A-Za-z0-9+]{3,11}$")
NUMBER_FORMATTING = re.compile(r"[\s().-]")

NUMBER_TYPE_NAMES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
}


@dataclass(frozen=True)
class PhoneTarget:
    """A recipient number that passed validation."""

    e164: str
    country: str
    carrier: str
    number_type: str


@dataclass
class Draft:
    """One recipient of an SMS or voice request, before and after pricing.

    ``to`` is the normalised E.164 number when the recipient is valid, else the input text.
    ``schedule`` is 0 for "send now".
    """

    message: dict[str, Any]
    to: str
    body: str
    country: str = ""
    carrier: str = ""
    number_type: str = "mobile"
    sender: str | None = None
    is_shared_sender: bool = False
    schedule: int = 0
    list_id: int | None = None
    contact: dict[str, Any] | None = None
    status: str = SUCCESS
    parts: int = 0
    price: Decimal = Decimal("0.0000")

    @property
    def accepted(self) -> bool:
        return self.status == SUCCESS

    def reject(self, status: str) -> None:
        """Mark the draft rejected with a ClickSend status code and clear its price."""
        self.status = status
        self.parts = 0
        self.price = Decimal("0.0000")


def read_messages(ctx: Context) -> list[Any]:
    """Return the request's messages array, or raise 400 BAD_REQUEST when it is missing or unusable."""
    messages = ctx.body.get("messages")
    if messages is None:
        raise bad_request({"messages": "The messages field is required."})
    if not isinstance(messages, list):
        raise bad_request({"messages": "The messages field must be a list of message objects."})
    if not messages:
        raise bad_request({"messages": "The messages field must contain at least 1 message."})
    if len(messages) > MAX_MESSAGES:
        raise bad_request(
            {"messages": f"The messages field may contain at most {MAX_MESSAGES} messages, got {len(messages)}."}
        )
    return messages


def parse_phone_number(raw: str, region: str) -> PhoneTarget | None:
    """Parse an E.164 number, or a local number of region. Return None when it is invalid.

    ClickSend's test numbers are always accepted.
    """
    text = raw.strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not is_test_phone_number(e164) and not phonenumbers.is_valid_number(number):
        return None
    number_type = NUMBER_TYPE_NAMES.get(phonenumbers.number_type(number), "mobile")
    return PhoneTarget(
        e164=e164,
        country=phonenumbers.region_code_for_number(number) or "",
        carrier=carrier.name_for_number(number, "en"),
        number_type=number_type,
    )


def resolve_sender(raw: Any, recipient_country: str, default_country: str) -> tuple[str | None, bool] | None:
    """Check a sender id and return (sender, is_shared), or None when it is invalid.

    An empty sender returns (None, True), and the caller then picks a shared number or
    leaves it null. A numeric sender must be a valid phone number and comes back in E.164.
    """
    text = text_value(raw)
    if not text:
        return None, True

    if NUMERIC_SENDER.match(text):
        candidates = [text] if text.startswith("+") else [text, "+" + text]
        for candidate in candidates:
            target = parse_phone_number(candidate, default_country)
            if target is not None:
                return target.e164, False
        return None

    if ALPHA_TAG.match(text):
        return text, False
    return None


def shared_number(country: str) -> str:
    """Return the made-up shared number the simulator sends from in a country."""
    return SHARED_NUMBERS.get(country, DEFAULT_SHARED_NUMBER)


def parse_schedule(value: Any) -> int | None:
    """Return a schedule as Unix seconds, 0 for "now" (missing, empty or 0), or None if invalid."""
    if value is None or value == "":
        return 0
    number = parse_int(value)
    if number is None or number < 0:
        return None
    return number


def _body_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return text_value(value)


def _build_draft(
    ctx: Context,
    message: dict[str, Any],
    to_text: str,
    *,
    list_id: int | None,
    contact: dict[str, Any] | None,
    shared_sender: bool,
    check: Callable[[dict[str, Any]], str | None] | None,
) -> Draft:
    region = text_value(message.get("country")).upper() or ctx.account.default_country
    draft = Draft(message=message, to=to_text, body=_body_text(message.get("body")), list_id=list_id, contact=contact)
    draft.country = region

    target = parse_phone_number(to_text, region)
    if target is not None:
        draft.to = target.e164
        draft.country = target.country
        draft.carrier = target.carrier
        draft.number_type = target.number_type

    sender = resolve_sender(message.get("from"), draft.country, ctx.account.default_country)
    if sender is not None:
        draft.sender, draft.is_shared_sender = sender
        if draft.sender is None and shared_sender:
            draft.sender = shared_number(draft.country)
    else:
        draft.sender = text_value(message.get("from"))

    schedule = parse_schedule(message.get("schedule"))

    # Checks run in this order, and the first failure sets the status.
    if not to_text:
        draft.reject("MISSING_REQUIRED_FIELDS")
    elif not draft.body.strip():
        draft.reject("EMPTY_MESSAGE")
    elif target is None:
        draft.reject("INVALID_RECIPIENT")
    elif _country_blocked(ctx, target):
        draft.reject("COUNTRY_NOT_ENABLED")
    elif sender is None:
        draft.reject("INVALID_SENDER_ID")
    elif schedule is None:
        draft.reject("INVALID_SCHEDULE")
    elif check is not None and (status := check(message)) is not None:
        draft.reject(status)
    else:
        draft.schedule = schedule
    return draft


def _country_blocked(ctx: Context, target: PhoneTarget) -> bool:
    """Return whether the account lacks global sending and the recipient is abroad."""
    if ctx.account.global_sending or is_test_phone_number(target.e164):
        return False
    return target.country != ctx.account.default_country


def _expand_list(
    ctx: Context,
    message: dict[str, Any],
    shared_sender: bool,
    check: Callable[[dict[str, Any]], str | None] | None,
) -> list[Draft]:
    raw_list_id = message.get("list_id")
    list_id = parse_int(raw_list_id)
    contact_list = ctx.store.contact_list(list_id) if list_id is not None else None
    if contact_list is None or contact_list["user_id"] != ctx.account.user_id:
        draft = Draft(message=message, to="", body=_body_text(message.get("body")))
        draft.reject("NOT_ENOUGH_PERMISSION_TO_LIST_ID")
        return [draft]

    drafts = []
    for contact in ctx.store.contacts(contact_list["list_id"]):
        drafts.append(
            _build_draft(
                ctx,
                message,
                contact["phone_number"],
                list_id=contact_list["list_id"],
                contact=contact,
                shared_sender=shared_sender,
                check=check,
            )
        )
    return drafts


def prepare_drafts(
    ctx: Context,
    messages: list[Any],
    *,
    shared_sender: bool,
    check: Callable[[dict[str, Any]], str | None] | None = None,
) -> list[Draft]:
    """Validate every message and expand list_id messages into one draft per contact.

    A list_id overrides "to" when both are given. ``shared_sender`` fills a missing sender
    with a shared number (SMS), or else the sender stays None (voice). ``check`` runs last and
    returns a status code to reject a message for endpoint-specific reasons.
    Raises 400 BAD_REQUEST when the expanded recipients exceed 1000.
    """
    drafts: list[Draft] = []
    for message in messages:
        if not isinstance(message, dict):
            draft = Draft(message={}, to="", body="")
            draft.reject("MISSING_REQUIRED_FIELDS")
            drafts.append(draft)
        elif message.get("list_id") not in (None, ""):
            drafts.extend(_expand_list(ctx, message, shared_sender, check))
        else:
            to_text = text_value(message.get("to"))
            draft = _build_draft(
                ctx, message, to_text, list_id=None, contact=None, shared_sender=shared_sender, check=check
            )
            drafts.append(draft)

    if len(drafts) > MAX_MESSAGES:
        raise bad_request(
            {
                "messages": f"A request may reach at most {MAX_MESSAGES} recipients, counting list contacts, "
                f"got {len(drafts)}."
            }
        )
    return drafts


def apply_throttle(ctx: Context, drafts: list[Draft], channel: Channel) -> None:
    """Reject with THROTTLED each accepted draft whose recipient got the same body within THROTTLE_SECONDS.

    Earlier sends of the channel and earlier drafts of the same request both count.
    """
    recent = ctx.store.messages(ctx.account.user_id, channel, date_from=ctx.now - THROTTLE_SECONDS)
    seen = {(record["to"], record["body"]) for record in recent}
    for draft in drafts:
        if not draft.accepted or is_test_phone_number(draft.to):
            continue
        key = (draft.to, draft.body)
        if key in seen:
            draft.reject("THROTTLED")
            continue
        seen.add(key)


class Chargeable(Protocol):
    """A draft that a send charges: an SMS or voice message, or a letter recipient."""

    price: Decimal

    @property
    def accepted(self) -> bool: ...

    def reject(self, status: str) -> None: ...


def apply_credit(ctx: Context, drafts: Sequence[Chargeable]) -> Decimal:
    """Reject with INSUFFICIENT_CREDIT each accepted draft the balance cannot pay for.

    Drafts are paid in request order, so the first ones that fit are kept. Returns the
    total price of the drafts still accepted.
    """
    remaining = ctx.account.balance_micros
    total = Decimal("0.0000")
    for draft in drafts:
        if not draft.accepted:
            continue
        cost = decimal_to_micros(draft.price)
        if cost > remaining:
            draft.reject("INSUFFICIENT_CREDIT")
            continue
        remaining -= cost
        total += draft.price
    return total


def send_summary(ctx: Context, drafts: list[Draft], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the ``data`` of a send or price response: totals over the accepted messages, and the messages."""
    queued = sum(1 for draft in drafts if draft.accepted)
    total = sum((draft.price for draft in drafts if draft.accepted), Decimal("0"))
    return {
        "total_price": price_number(total),
        "total_count": len(drafts),
        "queued_count": queued,
        "blocked_count": len(drafts) - queued,
        "messages": messages,
        "_currency": currency_object(ctx.account.currency),
    }
