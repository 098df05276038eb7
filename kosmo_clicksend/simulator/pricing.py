"""Message parts, prices and ClickSend's test destinations for the simulator.

Part rules follow ClickSend's published tables. A GSM-7 message fits 160 characters in
one part and 153 per part when concatenated. A message with any character outside GSM-7
is sent as Unicode, with 70 and 67. Voice messages use 300 (GSM) or 150 (Unicode) characters
per part. NOTE: every rate in this module is made up for the simulator and is not a
ClickSend price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

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

# GSM 03.38 basic character set, without the escape code that leads into the extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table. Each character takes an escape code plus itself, so it counts 2 septets.
GSM7_EXTENSION = frozenset("^{}\\[]~|€\f")

SMS_GSM_SINGLE = 160
SMS_GSM_MULTI = 153
SMS_UNICODE_SINGLE = 70
SMS_UNICODE_MULTI = 67
# ClickSend truncates messages longer than 6 parts. The simulated GET /v3/account reports
# the same cap as setting_sms_message_char_limit.
MAX_SMS_PARTS = 6

VOICE_GSM_PER_PART = 300
VOICE_UNICODE_PER_PART = 150
# ClickSend truncates voice messages longer than 4 parts.
MAX_VOICE_PARTS = 4

# ClickSend's published test destinations: nothing is delivered and nothing is charged.
TEST_PHONE_NUMBERS = frozenset(
    {
        "+61411111111",
        "+61422222222",
        "+61433333333",
        "+61444444444",
        "+14055555555",
        "+14055555666",
        "+447777777777",
        "+8615555555555",
    }
)
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


@dataclass(frozen=True)
class SmsParts:
    """Encoding, counted length and part count of one SMS body.

    ``characters`` is in GSM-7 septets for GSM-7 bodies and in UTF-16 code units for
    Unicode bodies, with every line break counted as 2. ``unicode_characters`` lists the
    distinct characters that forced Unicode, in order of first appearance.
    """

    encoding: Literal["GSM-7", "Unicode"]
    characters: int
    parts: int
    unicode_characters: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VoiceParts:
    """Encoding, length in characters and part count of one text-to-speech body."""

    encoding: Literal["GSM-7", "Unicode"]
    characters: int
    parts: int


def _non_gsm_characters(body: str) -> list[str]:
    found: list[str] = []
    for char in body:
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION and char not in found:
            found.append(char)
    return found


def _count_line_breaks(body: str) -> int:
    # A CRLF pair is one line break, so it counts 2 like a lone CR or LF.
    unified = body.replace("\r\n", "\n")
    return unified.count("\n") + unified.count("\r")


def _parts_for(length: int, single: int, multi: int, cap: int) -> int:
    if length == 0:
        return 0
    if length <= single:
        return 1
    parts = -(-length // multi)
    return min(parts, cap)


def sms_parts(body: str) -> SmsParts:
    """Count the parts ClickSend bills for an SMS body.

    ClickSend documents that a line break counts 2 characters, and the simulator applies
    that to LF, CR and CRLF in both encodings. In GSM-7, each extension-table character
    (``^ { } \\ [ ] ~ | €`` and form feed) also counts 2. The part count is capped at 6
    because ClickSend truncates longer messages. An empty body has 0 parts.
    """
    unicode_characters = _non_gsm_characters(body)
    line_breaks = _count_line_breaks(body)
    without_breaks = body.replace("\r", "").replace("\n", "")

    if unicode_characters:
        code_units = len(without_breaks.encode("utf-16-le")) // 2
        characters = code_units + 2 * line_breaks
        parts = _parts_for(characters, SMS_UNICODE_SINGLE, SMS_UNICODE_MULTI, MAX_SMS_PARTS)
        return SmsParts("Unicode", characters, parts, unicode_characters)

    characters = 2 * line_breaks
    for char in without_breaks:
        characters += 2 if char in GSM7_EXTENSION else 1
    parts = _parts_for(characters, SMS_GSM_SINGLE, SMS_GSM_MULTI, MAX_SMS_PARTS)
    return SmsParts("GSM-7", characters, parts, [])


def voice_parts(body: str) -> VoiceParts:
    """Count the parts ClickSend bills for a text-to-speech body.

    Voice parts have no concatenation overhead: 300 characters each for GSM-7 text and
    150 for Unicode text, capped at 4 parts. Characters are Unicode code points.
    """
    encoding: Literal["GSM-7", "Unicode"] = "Unicode" if _non_gsm_characters(body) else "GSM-7"
    per_part = VOICE_UNICODE_PER_PART if encoding == "Unicode" else VOICE_GSM_PER_PART
    characters = len(body)
    parts = _parts_for(characters, per_part, per_part, MAX_VOICE_PARTS)
    return VoiceParts(encoding, characters, parts)


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
