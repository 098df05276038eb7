"""Count the parts ClickSend bills for a message body, and tell which characters force Unicode.

ClickSend's published tables: a GSM-7 SMS fits 160 characters in one part and 153 per part when
concatenated; any character outside GSM-7 makes the whole SMS Unicode, with 70 and 67. Voice
messages use 300 (GSM-7) or 150 (Unicode) characters per part. Both the client (for its
per-message report) and the simulator (for prices) use these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "MAX_SMS_PARTS",
    "MAX_VOICE_PARTS",
    "SmsParts",
    "VoiceParts",
    "sms_parts",
    "voice_parts",
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


def sms_parts(body: str, max_parts: int = MAX_SMS_PARTS) -> SmsParts:
    """Count the parts ClickSend bills for an SMS body.

    ClickSend documents that a line break counts 2 characters, and this module applies
    that to LF, CR and CRLF in both encodings. In GSM-7, each extension-table character
    (``^ { } \\ [ ] ~ | €`` and form feed) also counts 2. The part count is capped at
    ``max_parts`` (an account's setting_sms_message_char_limit, 6 by default) because
    ClickSend truncates longer messages. An empty body has 0 parts.
    """
    unicode_characters = _non_gsm_characters(body)
    line_breaks = _count_line_breaks(body)
    without_breaks = body.replace("\r", "").replace("\n", "")

    if unicode_characters:
        code_units = len(without_breaks.encode("utf-16-le")) // 2
        characters = code_units + 2 * line_breaks
        parts = _parts_for(characters, SMS_UNICODE_SINGLE, SMS_UNICODE_MULTI, max_parts)
        return SmsParts("Unicode", characters, parts, unicode_characters)

    characters = 2 * line_breaks
    for char in without_breaks:
        characters += 2 if char in GSM7_EXTENSION else 1
    parts = _parts_for(characters, SMS_GSM_SINGLE, SMS_GSM_MULTI, max_parts)
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
