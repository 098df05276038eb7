"""Pieces shared by the simulator's endpoint handlers: errors, request context, currencies,
pagination and parsing of ClickSend's loosely typed values."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .store import Account, Store

__all__ = [
    "CURRENCIES",
    "ApiError",
    "Context",
    "Handler",
    "bad_request",
    "currency_object",
    "format_amount",
    "history_date_bounds",
    "paginate",
    "parse_flag",
    "parse_int",
    "price_number",
    "text_value",
]

logger = logging.getLogger(__name__)

INTEGER_PATTERN = re.compile(r"^-?[0-9]+$")
DEFAULT_LIMIT = 15
MIN_LIMIT = 15
MAX_LIMIT = 100

# Symbol, minor-unit symbol and long name of each account currency the simulator offers.
CURRENCIES: dict[str, tuple[str, str, str]] = {
    "AUD": ("$", "c", "Australian Dollars"),
    "USD": ("$", "c", "US Dollars"),
    "GBP": ("£", "p", "British Pounds"),
    "NZD": ("$", "c", "New Zealand Dollars"),
    "CAD": ("$", "c", "Canadian Dollars"),
    "EUR": ("€", "c", "Euros"),
}


class ApiError(Exception):
    """An error response: HTTP status, ClickSend response_code, response_msg and data."""

    def __init__(
        self,
        status: int,
        response_code: str,
        response_msg: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {response_code}: {response_msg}")
        self.status = status
        self.response_code = response_code
        self.response_msg = response_msg
        self.data = data
        self.headers = dict(headers or {})


def bad_request(problems: dict[str, str], message: str | None = None) -> ApiError:
    """Build a 400 BAD_REQUEST error whose data maps each invalid field to its problem."""
    if message is None:
        message = " ".join(problems.values())
    return ApiError(400, "BAD_REQUEST", message, dict(problems))


@dataclass
class Context:
    """One authenticated request as the handlers see it.

    ``body`` is the decoded JSON object of a POST (an empty dict for other methods), and
    ``params`` contains the values matched from the path, such as a list_id.
    """

    store: Store
    account: Account
    now: int
    path: str
    query: Mapping[str, str]
    body: dict[str, Any]
    base_url: str
    params: dict[str, str] = field(default_factory=dict)


# A handler returns the response_msg and data of a 200 SUCCESS response, or raises ApiError.
Handler = Callable[[Context], tuple[str, Any]]


def currency_object(code: str, *, with_recharge_limits: bool = False) -> dict[str, Any]:
    """Return ClickSend's ``_currency`` object for a currency code."""
    symbol, minor_symbol, long_name = CURRENCIES[code]
    result: dict[str, Any] = {
        "currency_name_short": code,
        "currency_prefix_d": symbol,
        "currency_prefix_c": minor_symbol,
        "currency_name_long": long_name,
    }
    if with_recharge_limits:
        result["min_recharge_amount"] = "20.00"
        result["max_recharge_amount"] = "10000.00"
    return result


def format_amount(amount: Decimal, places: int = 4) -> str:
    """Format an amount as ClickSend's fixed-point price string, such as "0.0792"."""
    return f"{amount:.{places}f}"


def price_number(amount: Decimal) -> float:
    """Convert a total to the JSON number ClickSend uses for total_price."""
    return float(round(amount, 4))


def parse_int(value: Any) -> int | None:
    """Return value as an int when it is an integer or a string of digits, else None.

    Booleans are rejected, and so are floats unless they hold a whole number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and INTEGER_PATTERN.match(value.strip()):
        return int(value.strip())
    return None


def parse_flag(value: Any) -> int | None:
    """Return a 0/1 flag from 0, 1, booleans or their string forms, or None for anything else."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return int(value.strip().lower() == "true")
    number = parse_int(value)
    if number in (0, 1):
        return number
    return None


def text_value(value: Any) -> str:
    """Return value as stripped text: strings as they are, numbers in decimal, anything else empty."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def history_date_bounds(ctx: Context) -> tuple[int | None, int | None]:
    """Read the inclusive date_from and date_to filters of a history request (Unix seconds)."""
    bounds: list[int | None] = []
    problems: dict[str, str] = {}
    for name in ("date_from", "date_to"):
        raw = ctx.query.get(name)
        if raw is None or raw.strip() == "":
            bounds.append(None)
            continue
        number = parse_int(raw)
        if number is None:
            problems[name] = f"The {name} must be an integer Unix timestamp in seconds, got {raw!r}."
        bounds.append(number)
    if problems:
        raise bad_request(problems)
    return bounds[0], bounds[1]


def _page_and_limit(query: Mapping[str, str]) -> tuple[int, int]:
    # ClickSend documents page >= 1 and limit 15..100 but not what it does with other
    # values, so the simulator clamps them instead of rejecting the request.
    page = parse_int(query.get("page", "")) or 1
    page = max(page, 1)
    limit = parse_int(query.get("limit", ""))
    if limit is None:
        limit = DEFAULT_LIMIT
    limit = min(max(limit, MIN_LIMIT), MAX_LIMIT)
    return page, limit


def _page_url(ctx: Context, page: int) -> str:
    # Only the page number is kept in the link, like ClickSend's own example URLs.
    return f"{ctx.base_url}{ctx.path}?page={page}"


def paginate(ctx: Context, rows: list[Any]) -> dict[str, Any]:
    """Cut one page out of rows and wrap it in ClickSend's pagination object."""
    page, limit = _page_and_limit(ctx.query)
    total = len(rows)
    last_page = -(-total // limit)
    offset = (page - 1) * limit
    page_rows = rows[offset : offset + limit]
    return {
        "total": total,
        "per_page": limit,
        "current_page": page,
        "last_page": last_page,
        "next_page_url": _page_url(ctx, page + 1) if page < last_page else None,
        "prev_page_url": _page_url(ctx, page - 1) if page > 1 else None,
        "from": offset + 1 if page_rows else None,
        "to": offset + len(page_rows) if page_rows else None,
        "data": page_rows,
    }
