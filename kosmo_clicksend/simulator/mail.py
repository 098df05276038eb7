"""Email endpoints of the simulator: sender addresses (GET and POST /v3/email/addresses,
GET /v3/email/addresses/{id}), their verification (PUT /v3/email/address-verify/...),
POST /v3/email/send, POST /v3/email/price and GET /v3/email/history.

ClickSend emails a verification token to a new sender address. The simulator sends no email:
the token is shown by ``Simulator.account_state``, ``kosmo-clicksend simulator state`` and
``GET /__simulator/accounts/{username}``.
"""

from __future__ import annotations

import html
import logging
import re
from decimal import Decimal
from typing import Any

from .api import (
    ApiError,
    Context,
    bad_request,
    currency_object,
    format_amount,
    history_date_bounds,
    paginate,
    parse_int,
    price_number,
    text_value,
)
from .outbound import parse_schedule
from .pricing import email_price
from .sms import DELIVERY_DELAY_SECONDS
from .store import decimal_to_micros, looks_like_email

__all__ = [
    "email_address_add",
    "email_address_verify",
    "email_address_view",
    "email_addresses_list",
    "email_history",
    "email_price_request",
    "email_send",
    "email_verification_send",
]

logger = logging.getLogger(__name__)

HTML_TAG = re.compile(r"<[^>]*>")
WHITESPACE = re.compile(r"\s+")
ATTACHMENT_REQUIRED_FIELDS = ("content", "type", "filename")


def _address_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "email_address_id": row["email_address_id"],
        "email_address": row["email_address"],
        "verified": row["verified"],
        "date_added": str(row["date_added"]),
    }


def email_addresses_list(ctx: Context) -> tuple[str, Any]:
    """List the account's sender email addresses, one page at a time."""
    rows = [_address_row(row) for row in ctx.store.email_addresses(ctx.account.user_id)]
    return "Here are your email addresses", paginate(ctx, rows)


def email_address_add(ctx: Context) -> tuple[str, Any]:
    """Add an unverified sender email address."""
    address = text_value(ctx.body.get("email_address"))
    if not address:
        raise bad_request({"email_address": "The email_address field is required."})
    if not looks_like_email(address):
        raise bad_request({"email_address": f"The email_address {address!r} is not a valid email address."})
    existing = [row["email_address"].lower() for row in ctx.store.email_addresses(ctx.account.user_id)]
    if address.lower() in existing:
        raise bad_request({"email_address": f"The email address {address} has already been added."})
    row = ctx.store.add_email_address(ctx.account.user_id, address, verified=False, now=ctx.now)
    return "Email address has been created.", _address_row(row)


def _owned_address(ctx: Context) -> dict[str, Any]:
    """Return the account's sender address named by the path, or raise 404 NOT_FOUND."""
    raw = ctx.params["email_address_id"]
    email_address_id = parse_int(raw)
    row = ctx.store.email_address(ctx.account.user_id, email_address_id) if email_address_id is not None else None
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"Email address with email_address_id {raw} was not found.")
    return row


def email_address_view(ctx: Context) -> tuple[str, Any]:
    """Describe one sender email address of the account."""
    return "Here is your email address.", _address_row(_owned_address(ctx))


def email_verification_send(ctx: Context) -> tuple[str, Any]:
    """Issue a new verification token for an unverified sender address (no email leaves the simulator)."""
    row = _owned_address(ctx)
    if row["verified"]:
        raise bad_request(
            {"email_address_id": f"The email address {row['email_address']} is already verified."},
        )
    ctx.store.set_verification_token(row["email_address_id"])
    return "Verification email has been sent.", {}


def email_address_verify(ctx: Context) -> tuple[str, Any]:
    """Verify a sender address with the token issued by the send-verification endpoint."""
    row = _owned_address(ctx)
    if not row["verified"]:
        expected = ctx.store.verification_token(row["email_address_id"])
        if expected is None or expected != ctx.params["activation_token"]:
            raise bad_request(
                {
                    "activation_token": "The activation token is invalid. Request a new one with "
                    f"PUT /v3/email/address-verify/{row['email_address_id']}/send."
                },
            )
        ctx.store.verify_email_address(row["email_address_id"])
        row = _owned_address(ctx)
    return "Email address verified.", _address_row(row)


def _read_recipients(
    body: dict[str, Any], name: str, problems: dict[str, str], *, required: bool
) -> list[dict[str, str]]:
    value = body.get(name)
    if value is None or value == []:
        if required:
            problems[name] = f"The {name} field is required: a list of objects with an email field."
        return []
    if not isinstance(value, list):
        problems[name] = f"The {name} field must be a list of objects with an email field."
        return []

    recipients = []
    for index, item in enumerate(value):
        email = text_value(item.get("email")) if isinstance(item, dict) else ""
        if not looks_like_email(email):
            problems[f"{name}.{index}.email"] = f"The {name}.{index}.email {email!r} is not a valid email address."
            continue
        recipient = {"email": email}
        display_name = text_value(item.get("name"))
        if display_name:
            recipient["name"] = display_name
        recipients.append(recipient)
    return recipients


def _read_attachments(body: dict[str, Any], problems: dict[str, str]) -> list[dict[str, Any]]:
    value = body.get("attachments")
    if value is None or value == []:
        return []
    if not isinstance(value, list):
        problems["attachments"] = "The attachments field must be a list of attachment objects."
        return []

    attachments = []
    for index, item in enumerate(value):
        item = item if isinstance(item, dict) else {}
        missing = [name for name in ATTACHMENT_REQUIRED_FIELDS if not text_value(item.get(name))]
        for name in missing:
            problems[f"attachments.{index}.{name}"] = f"The attachments.{index}.{name} field is required."
        if missing:
            continue
        attachments.append(
            {
                "file_name": text_value(item.get("filename")),
                "content_type": text_value(item.get("type")),
                "content_disposition": text_value(item.get("disposition")) or "attachment",
                "content_id": text_value(item.get("content_id")) or None,
                # The simulator stores no files, so there is no URL to return.
                "_attachment_file_url": None,
            }
        )
    return attachments


def _read_email(ctx: Context) -> dict[str, Any]:
    """Validate an email request body, or raise 400 BAD_REQUEST listing every invalid field."""
    body = ctx.body
    problems: dict[str, str] = {}

    to = _read_recipients(body, "to", problems, required=True)
    cc = _read_recipients(body, "cc", problems, required=False)
    bcc = _read_recipients(body, "bcc", problems, required=False)

    sender = body.get("from")
    email_address_id = None
    from_name = None
    if not isinstance(sender, dict):
        problems["from"] = (
            "The from field is required: an object with the email_address_id of a verified sender address."
        )
    else:
        email_address_id = parse_int(sender.get("email_address_id"))
        if email_address_id is None:
            problems["from.email_address_id"] = "The from.email_address_id field is required and must be an integer."
        from_name = text_value(sender.get("name"))

    content = body.get("body")
    if not isinstance(content, str) or not content.strip():
        problems["body"] = "The body field is required."

    subject = body.get("subject")
    if subject is not None and not isinstance(subject, str):
        problems["subject"] = "The subject field must be a string."

    schedule = parse_schedule(body.get("schedule"))
    if schedule is None:
        problems["schedule"] = "The schedule field must be an integer Unix timestamp in seconds."

    attachments = _read_attachments(body, problems)
    if problems:
        raise bad_request(problems)

    custom_string = body.get("custom_string")
    return {
        "to": to,
        "cc": cc,
        "bcc": bcc,
        "email_address_id": email_address_id,
        "from_name": from_name,
        "subject": subject or "",
        "body": content,
        "schedule": schedule,
        "attachments": attachments,
        "custom_string": custom_string if isinstance(custom_string, str) else None,
    }


def _plain_text(markup: str) -> str:
    return WHITESPACE.sub(" ", html.unescape(HTML_TAG.sub(" ", markup))).strip()


def _price_of(email: dict[str, Any]) -> Decimal:
    addresses = [recipient["email"] for key in ("to", "cc", "bcc") for recipient in email[key]]
    return email_price(addresses)


def _verified_sender(ctx: Context, email_address_id: int) -> dict[str, Any]:
    row = ctx.store.email_address(ctx.account.user_id, email_address_id)
    if row is None:
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Email address with email_address_id {email_address_id} was not found. "
            "List the account's sender addresses with GET /v3/email/addresses.",
        )
    if not row["verified"]:
        raise ApiError(
            403,
            "FORBIDDEN",
            f"Email address {row['email_address']} (email_address_id {email_address_id}) is not verified. "
            "Send from a verified address listed by GET /v3/email/addresses.",
        )
    return row


def email_send(ctx: Context) -> tuple[str, Any]:
    """Queue, charge and record one transactional email from a verified sender address."""
    email = _read_email(ctx)
    _verified_sender(ctx, email["email_address_id"])
    price = _price_of(email)
    if decimal_to_micros(price) > ctx.account.balance_micros:
        # NOTE: ClickSend does not document how an email send without credit fails. The
        # simulator returns 403 with the INSUFFICIENT_CREDIT application code.
        raise ApiError(
            403,
            "INSUFFICIENT_CREDIT",
            f"The email costs {format_amount(price)} {ctx.account.currency} but the balance is "
            f"{ctx.account.balance:.6f}. Recharge the account or use a test recipient.",
        )

    message_id = ctx.store.new_message_id()
    record = {
        "user_id": ctx.account.user_id,
        "subaccount_id": ctx.account.user_id,
        "from_email_address_id": email["email_address_id"],
        "from_name": email["from_name"],
        "to": email["to"],
        "cc": email["cc"],
        "bcc": email["bcc"],
        "subject": email["subject"],
        "body": email["body"],
        "body_plain_text": _plain_text(email["body"]),
        "schedule": email["schedule"] or ctx.now,
        "message_id": message_id,
        "status": "WaitApproval",
        "status_text": "Accepted for delivery",
        "soft_bounce_count": 0,
        "hard_bounce_count": 0,
        "price": format_amount(price),
        "date_added": ctx.now,
        "custom_string": email["custom_string"],
        "_attachments": email["attachments"],
    }
    ctx.store.add_message(ctx.account.user_id, "email", ctx.now, message_id, record)
    ctx.store.change_balance(ctx.account.user_id, -decimal_to_micros(price))

    data = dict(record)
    data["_currency"] = currency_object(ctx.account.currency)
    return "Transactional email queued for delivery.", data


def email_price_request(ctx: Context) -> tuple[str, Any]:
    """Price one email without sending it. The sender id is checked for shape, not looked up."""
    email = _read_email(ctx)
    data = {
        "_currency": currency_object(ctx.account.currency),
        "to_array": email["to"],
        "cc_array": email["cc"],
        "bcc_array": email["bcc"],
        "subject": email["subject"],
        "body": email["body"],
        "price": price_number(_price_of(email)),
    }
    return "Here's the email price.", data


def _history_row(ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    due = max(record["date_added"], record["schedule"])
    if ctx.now < due:
        status, status_text = "Scheduled", "Scheduled for delivery"
    elif ctx.now < due + DELIVERY_DELAY_SECONDS:
        status, status_text = record["status"], record["status_text"]
    else:
        status, status_text = "Sent", "Delivered to the recipient's mail server"
    return {
        "_attachments": record["_attachments"],
        "_currency": currency_object(ctx.account.currency),
        "to": record["to"],
        "cc": record["cc"] or None,
        "bcc": record["bcc"] or None,
        "body": record["body"],
        "body_plain_text": record["body_plain_text"],
        "subject": record["subject"],
        "custom_string": record["custom_string"],
        "date_added": str(record["date_added"]),
        "schedule": str(record["schedule"]),
        "from_email_address_id": record["from_email_address_id"],
        "from_name": record["from_name"],
        "hard_bounce_count": record["hard_bounce_count"],
        "soft_bounce_count": record["soft_bounce_count"],
        "message_id": record["message_id"],
        "price": record["price"],
        "status": status,
        "status_text": status_text,
        "subaccount_id": record["subaccount_id"],
        "user_id": record["user_id"],
    }


def email_history(ctx: Context) -> tuple[str, Any]:
    """List sent emails, filtered on date_added, one page at a time."""
    date_from, date_to = history_date_bounds(ctx)
    records = ctx.store.messages(ctx.account.user_id, "email", date_from=date_from, date_to=date_to)
    return "Here is your result.", paginate(ctx, [_history_row(ctx, record) for record in records])
