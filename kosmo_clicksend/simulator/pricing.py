"""Prices and ClickSend's test destinations for the simulator.

Part counting lives in ``kosmo_clicksend.segments`` and is re-exported here. NOTE: every rate in
this module is made up for the simulator and is not a ClickSend price.
"""

from __future__ import annotations

from decimal import Decimal

from ..phones import TEST_NUMBERS
from ..segments import MAX_SMS_PARTS, MAX_VOICE_PARTS, SmsParts, VoiceParts, sms_parts, voice_parts

__all__ = [
    "EMAIL_RATE",
    "LETTER_BASE_RATE",
    "LETTER_COLOUR_SURCHARGE",
    "LETTER_PRIORITY_SURCHARGE",
    "MAX_SMS_PARTS",
    "MAX_VOICE_PARTS",
    "SmsParts",
    "TEST_EMAIL_ADDRESSES",
    "TEST_PHONE_NUMBERS",
    "TEST_POSTAL_CODES",
    "VoiceParts",
    "email_price",
    "is_test_email",
    "is_test_phone_number",
    "letter_price",
    "sms_parts",
    "sms_price",
    "voice_parts",
    "voice_price",
]

# ClickSend's published test destinations: nothing is delivered and nothing is charged.
TEST_PHONE_NUMBERS = TEST_NUMBERS
TEST_EMAIL_ADDRESSES = frozenset({"test1@test.com", "test2@test.com", "test3@test.com"})
TEST_POSTAL_CODES = frozenset({"11111", "22222", "33333"})

# Made-up per-part rates in the account currency, keyed by ISO 3166 alpha-2 destination country.
SMS_RATES = {
    "AU": Decimal("0.0792"),
    "NZ": Decimal("0.1420"),
    "US": Decimal("0.0330"),
    "CA": Decimal("0.0330"),
    "GB": Decimal("0.0650"),
}
SMS_DEFAULT_RATE = Decimal("0.1500")
VOICE_RATES = {"AU": Decimal("0.0700")}
VOICE_DEFAULT_RATE = Decimal("0.1000")

# Made-up rates for email (per recipient, counting to, cc and bcc) and letters (per letter).
EMAIL_RATE = Decimal("0.0050")
LETTER_BASE_RATE = Decimal("1.2000")
LETTER_COLOUR_SURCHARGE = Decimal("0.5000")
LETTER_PRIORITY_SURCHARGE = Decimal("0.8000")

ZERO = Decimal("0.0000")
FOUR_PLACES = Decimal("0.0001")


def is_test_phone_number(e164: str) -> bool:
    """Return whether an E.164 number is one of ClickSend's free test destinations."""
    return e164 in TEST_PHONE_NUMBERS


def is_test_email(address: str) -> bool:
    """Return whether an email address is one of ClickSend's free test recipients."""
    return address.strip().lower() in TEST_EMAIL_ADDRESSES


def sms_price(country: str | None, parts: int, to: str) -> Decimal:
    """Compute the price of an SMS in the account currency, 4 decimal places."""
    if is_test_phone_number(to):
        return ZERO
    rate = SMS_RATES.get((country or "").upper(), SMS_DEFAULT_RATE)
    return (rate * parts).quantize(FOUR_PLACES)


def voice_price(country: str | None, parts: int, to: str) -> Decimal:
    """Compute the price of a voice call in the account currency, 4 decimal places."""
    if is_test_phone_number(to):
        return ZERO
    rate = VOICE_RATES.get((country or "").upper(), VOICE_DEFAULT_RATE)
    return (rate * parts).quantize(FOUR_PLACES)


def email_price(recipients: list[str]) -> Decimal:
    """Compute the price of one email at a flat rate per recipient, with test recipients free."""
    billable = sum(1 for address in recipients if not is_test_email(address))
    return (EMAIL_RATE * billable).quantize(FOUR_PLACES)


def letter_price(postal_code: str, *, colour: bool, priority_post: bool) -> Decimal:
    """Compute the price of one letter, assuming 1 page because the PDF is never fetched.

    Letters to ClickSend's test postal codes cost nothing.
    """
    if postal_code.strip() in TEST_POSTAL_CODES:
        return ZERO
    price = LETTER_BASE_RATE
    if colour:
        price += LETTER_COLOUR_SURCHARGE
    if priority_post:
        price += LETTER_PRIORITY_SURCHARGE
    return price.quantize(FOUR_PLACES)
