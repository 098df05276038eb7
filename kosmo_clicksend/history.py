"""Read paginated ClickSend lists (history, contact lists) the way agents ask for them.

ClickSend serves pages of 15 to 100 rows, oldest first, filtered by Unix-second dates. This module
adds what agents expect on top: dates in readable forms, ``order`` (newest or oldest), pages
smaller than 15 rows, and ``max_records`` to gather rows across pages into one list.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .dates import to_unix_seconds
from .errors import ArgumentError
from .specs import ToolSpec

if TYPE_CHECKING:
    from .client import ClickSendClient

__all__ = ["read_pages"]

CLICKSEND_MIN_LIMIT = 15
CLICKSEND_MAX_LIMIT = 100


def _iso(seconds: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).astimezone(zone).isoformat()


def _date_params(spec: ToolSpec, args: dict[str, Any], zone: tzinfo) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Return the date query parameters and the resolved range to echo, or raise ArgumentError."""
    start, end = args.get("date_from"), args.get("date_to")
    params: dict[str, Any] = {}
    if start is not None:
        params["date_from"] = to_unix_seconds(start, zone, end_of_day=False)
    if end is not None:
        params["date_to"] = to_unix_seconds(end, zone, end_of_day=True)
    if start is not None and end is not None and params["date_from"] > params["date_to"]:
        raise ArgumentError(spec.name, [f"date_from {start!r} is after date_to {end!r}; swap them or widen the range"])
    if not params:
        return params, None
    echo: dict[str, Any] = {}
    for key, seconds in params.items():
        echo[key] = seconds
        echo[f"{key}_iso"] = _iso(seconds, zone)
    return params, echo


def read_pages(spec: ToolSpec, client: ClickSendClient, args: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """Run a paginated read: one page, a page smaller than 15 rows, or up to ``max_records`` rows.

    Raises ArgumentError before any request for a reversed date range or for ``max_records``
    combined with ``page`` or ``limit``.
    """
    params, date_range = _date_params(spec, args, zone)
    if args.get("order") == "newest" and spec.order_by_field:
        params["order_by"] = f"{spec.order_by_field}:desc"
    max_records = args.get("max_records")
    if max_records is not None and ("page" in args or "limit" in args):
        raise ArgumentError(spec.name, ["max_records gathers pages itself; leave out page and limit, or max_records"])

    if max_records is not None:
        result = _gather(spec, client, params, int(max_records))
    else:
        page = int(args.get("page", 1))
        limit = args.get("limit")
        if limit is None or limit >= CLICKSEND_MIN_LIMIT:
            query = {**params, "page": page}
            if limit is not None:
                query["limit"] = limit
            result = client.request(spec.name, spec.method, spec.path, params=query)
        else:
            result = _small_page(spec, client, params, page, int(limit))
    if date_range is not None:
        result["date_range"] = date_range
    return result


def _rows_of(result: dict[str, Any]) -> tuple[dict[str, Any], list[Any]] | None:
    data = result.get("data")
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return data, data["data"]
    return None


def _small_page(spec: ToolSpec, client: ClickSendClient, params: dict[str, Any], page: int, limit: int) -> dict[str, Any]:
    """Serve a page smaller than ClickSend's minimum from the one or two 15-row pages around it."""
    offset = (page - 1) * limit
    first = offset // CLICKSEND_MIN_LIMIT + 1
    last = (offset + limit - 1) // CLICKSEND_MIN_LIMIT + 1
    rows: list[Any] = []
    result: dict[str, Any] = {}
    for clicksend_page in range(first, last + 1):
        result = client.request(
            spec.name, spec.method, spec.path, params={**params, "page": clicksend_page, "limit": CLICKSEND_MIN_LIMIT}
        )
        found = _rows_of(result)
        if found is None:
            return result
        rows.extend(found[1])
        if len(found[1]) < CLICKSEND_MIN_LIMIT:
            break

    skip = offset - (first - 1) * CLICKSEND_MIN_LIMIT
    window = rows[skip : skip + limit]
    data = dict(result["data"])
    total = int(data.get("total") or 0)
    last_page = math.ceil(total / limit) if total else 0
    url = f"{client.base_url}{spec.path}?limit={limit}&page="
    data.update(
        {
            "data": window,
            "per_page": limit,
            "current_page": page,
            "last_page": last_page,
            "from": offset + 1 if window else None,
            "to": offset + len(window) if window else None,
            "next_page_url": f"{url}{page + 1}" if page < last_page else None,
            "prev_page_url": f"{url}{page - 1}" if page > 1 else None,
        }
    )
    return {**result, "data": data}


def _page_number(url: Any) -> int | None:
    """Read the page number from a ClickSend next_page_url, or None when there is no next page."""
    if not isinstance(url, str) or not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def _gather(spec: ToolSpec, client: ClickSendClient, params: dict[str, Any], max_records: int) -> dict[str, Any]:
    """Follow next_page_url with pages of 100 until ``max_records`` rows or the last page.

    ClickSend's next_page_url keeps only ``page``, so each request sends the original filters
    again with the page number taken from that URL. Rows are de-duplicated by ``message_id``
    (or ``list_id``), because rows can shift between pages while new messages arrive.
    """
    rows: list[Any] = []
    seen: set[Any] = set()
    page: int | None = 1
    result: dict[str, Any] = {}
    pages_read = 0
    while page is not None and len(rows) < max_records:
        result = client.request(
            spec.name, spec.method, spec.path, params={**params, "page": page, "limit": CLICKSEND_MAX_LIMIT}
        )
        pages_read += 1
        found = _rows_of(result)
        if found is None:
            return result
        data, page_rows = found
        for row in page_rows:
            key = (row.get("message_id") or row.get("list_id")) if isinstance(row, dict) else None
            if key is not None and key in seen:
                continue
            if key is not None:
                seen.add(key)
            rows.append(row)
        next_page = _page_number(data.get("next_page_url"))
        page = next_page if next_page is not None and next_page > page else None

    kept = rows[:max_records]
    data = dict(result.get("data") or {})
    data.update(
        {
            "data": kept,
            "per_page": len(kept),
            "current_page": 1,
            "last_page": 1 if kept else 0,
            "from": 1 if kept else None,
            "to": len(kept) if kept else None,
            "next_page_url": None,
            "prev_page_url": None,
            "pages_read": pages_read,
            "truncated": len(rows) > max_records or page is not None,
        }
    )
    return {**result, "data": data}
