"""Normalise recipient phone numbers to the E.164 form ClickSend expects, with the phonenumbers library."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException

__all__ = ["TEST_NUMBERS", "is_known_region", "normalize_number"]

# ClickSend's published test numbers: they succeed without sending or charging. Some are in
# ranges that phonenumbers' metadata may one day call invalid, so they are always accepted.
TEST_NUMBERS = frozenset(
    {
        "+61411111111", "+61422222222", "+61433333333", "+61444444444",
        "+14055555555", "+14055555666", "+447777777777", "+8615555555555",
    }
)

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "its country calling code is unknown",
    NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}


def is_known_region(code: str) -> bool:
    """Tell whether a two-letter code is a region phonenumbers can read local numbers for."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS


def normalize_number(text: str, region: str | None) -> str:
    """Return ``text`` as an E.164 number, reading a local number as one of ``region``.

    Raise ValueError with a reason when the number cannot be a real number: unparsable, a local
    number with no region, or not valid for its country in phonenumbers' metadata.

    NOTE: a number from a range newer than the installed phonenumbers metadata is rejected as
    invalid; upgrading phonenumbers fixes that.
    """
    stripped = text.strip()
    if stripped in TEST_NUMBERS:
        return stripped
    if not stripped.startswith("+") and stripped.startswith("00"):
        stripped = "+" + stripped[2:]
    if not stripped.startswith("+") and region is None:
        raise ValueError("it is a local number and no country is known; use E.164 such as +61411111111 or set country")
    try:
        number = phonenumbers.parse(stripped, None if stripped.startswith("+") else region.upper() if region else None)
    except NumberParseException as exc:
        raise ValueError(_PARSE_REASONS.get(exc.error_type, "it is not a phone number")) from None
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if formatted in TEST_NUMBERS:
        return formatted
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region or "its country"
        raise ValueError(f"it is not a valid number in {where}")
    return formatted
