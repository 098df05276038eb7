"""Turn the date forms agents write into the Unix seconds ClickSend expects."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ACCEPTED_DATE_FORMS", "is_date_value", "resolve_time_zone", "to_unix_seconds"]

ACCEPTED_DATE_FORMS = "YYYY-MM-DD, an ISO 8601 date-time such as 2026-11-01T09:30:00+10:00, or Unix seconds"

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGITS = re.compile(r"^\d{1,12}$")
# Unix seconds above this (year 5138) are rejected as typos, such as milliseconds.
_MAX_UNIX_SECONDS = 10**11


def resolve_time_zone(name: str | None) -> tzinfo:
    """Return the IANA time zone of that name, or UTC for None; raise ValueError for an unknown name."""
    if not name or name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Australia/Sydney") from exc


def _parse_iso(text: str) -> datetime | None:
    candidate = text.strip()
    # datetime.fromisoformat before Python 3.11 does not read a trailing Z.
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def is_date_value(value: object) -> bool:
    """Tell whether a value is one of the accepted date forms (used as a JSON Schema format check)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < _MAX_UNIX_SECONDS
    if not isinstance(value, str):
        return True  # the schema's type check reports other types
    text = value.strip()
    if _DIGITS.match(text):
        return int(text) < _MAX_UNIX_SECONDS
    if _DATE_ONLY.match(text):
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
        return True
    return _parse_iso(text) is not None


def to_unix_seconds(value: int | str, zone: tzinfo, *, end_of_day: bool) -> int:
    """Convert an accepted date form to Unix seconds.

    A date without a time is the start of that day in ``zone``, or its last second when
    ``end_of_day`` is set. A date-time without an offset is read in ``zone``. Raise ValueError
    for anything else.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if _DIGITS.match(text):
        return int(text)
    if _DATE_ONLY.match(text):
        day = date.fromisoformat(text)
        if end_of_day:
            moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) - timedelta(seconds=1)
        else:
            moment = datetime.combine(day, time(0), tzinfo=zone)
        return int(moment.timestamp())
    parsed = _parse_iso(text)
    if parsed is None:
        raise ValueError(f"{value!r} is not a date; use {ACCEPTED_DATE_FORMS}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return int(parsed.timestamp())
