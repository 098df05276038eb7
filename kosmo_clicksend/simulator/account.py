"""Account and contact list endpoints of the simulator: GET /v3/account, GET /v3/lists,
GET /v3/lists/{list_id} and GET /v3/lists/{list_id}/contacts."""

from __future__ import annotations

import logging
from typing import Any

from .api import ApiError, Context, currency_object, paginate, parse_int
from .store import looks_like_email

__all__ = ["account_view", "list_contacts", "list_view", "lists_list"]

logger = logging.getLogger(__name__)

TIMEZONES = {
    "AU": "Australia/Melbourne",
    "NZ": "Pacific/Auckland",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "GB": "Europe/London",
}


def account_view(ctx: Context) -> tuple[str, Any]:
    """Describe the account, with api_key always "<redacted>" so that the real key is never echoed."""
    account = ctx.account
    email = account.username if looks_like_email(account.username) else ""
    data = {
        "user_id": account.user_id,
        "username": account.username,
        "user_email": email,
        "user_phone": "",
        "user_first_name": "",
        "user_last_name": "",
        "active": int(account.status != "notactive"),
        "banned": int(account.status == "banned"),
        "date_sign_up": account.date_sign_up,
        "balance": f"{account.balance:.6f}",
        "account_name": "Simulator account",
        "country": account.default_country,
        "default_country_sms": account.default_country,
        "auto_recharge": 0,
        "low_credit_amount": "0.00",
        "setting_unicode_sms": 1,
        "setting_sms_message_char_limit": account.sms_part_limit,
        "timezone": TIMEZONES.get(account.default_country, "UTC"),
        "_currency": currency_object(account.currency, with_recharge_limits=True),
        "_subaccount": {
            "subaccount_id": account.user_id,
            "api_username": account.username,
            "email": email,
            "phone_number": "",
            "first_name": "",
            "last_name": "",
            "api_key": "<redacted>",
            "access_sms": 1,
            "access_email": 1,
            "access_voice": 1,
            "access_post": 1,
            "access_global_sending": account.global_sending,
            "is_main": 1,
        },
    }
    return "Here's your account.", data


def _list_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "list_id": row["list_id"],
        "list_name": row["list_name"],
        "list_email_id": row["list_email_id"],
        "_contacts_count": row["contacts_count"],
        "_import_in_progress": 0,
        "_optout_in_progress": 0,
    }


def _owned_list(ctx: Context) -> dict[str, Any]:
    """Return the list named by the path.

    Raises 404 NOT_FOUND if it does not exist and 403 FORBIDDEN if another account owns it.
    """
    list_id = parse_int(ctx.params["list_id"])
    row = ctx.store.contact_list(list_id) if list_id is not None else None
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Your list is not found.")
    if row["user_id"] != ctx.account.user_id:
        raise ApiError(
            403, "FORBIDDEN", "Resource not found or you don't have the permissions to access this resource."
        )
    return row


def lists_list(ctx: Context) -> tuple[str, Any]:
    """List the account's contact lists, one page at a time."""
    rows = [_list_row(row) for row in ctx.store.contact_lists(ctx.account.user_id)]
    return "Here are your data.", paginate(ctx, rows)


def list_view(ctx: Context) -> tuple[str, Any]:
    """Describe one contact list of the account."""
    return "Here is your list.", _list_row(_owned_list(ctx))


def _contact_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "contact_id": row["contact_id"],
        "list_id": row["list_id"],
        "phone_number": row["phone_number"],
        "email": row["email"],
        "fax_number": None,
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "organization_name": "",
        "custom_1": "",
        "custom_2": "",
        "custom_3": "",
        "custom_4": "",
        "address_line_1": "",
        "address_line_2": "",
        "address_city": "",
        "address_state": "",
        "address_postal_code": "",
        "address_country": "",
        "date_added": row["date_added"],
        "date_updated": row["date_added"],
        "unsubscribed": 0,
        "_list_name": row["list_name"],
    }


def list_contacts(ctx: Context) -> tuple[str, Any]:
    """List the contacts of one contact list, one page at a time."""
    contact_list = _owned_list(ctx)
    rows = [
        _contact_row({**row, "list_name": contact_list["list_name"]}) for row in ctx.store.contacts(contact_list["list_id"])
    ]
    return "Here are your contacts.", paginate(ctx, rows)
