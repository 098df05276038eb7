"""Voice (text-to-speech) endpoints of the simulator: POST /v3/voice/send, POST /v3/voice/price,
GET /v3/voice/history and GET /v3/voice/lang."""

from __future__ import annotations

import logging
from typing import Any

from .api import (
    Context,
    format_amount,
    history_date_bounds,
    paginate,
    parse_flag,
    text_value,
)
from .outbound import (
    Draft,
    apply_credit,
    apply_throttle,
    prepare_drafts,
    read_messages,
    send_summary,
)
from .pricing import voice_parts, voice_price
from .sms import delivery_status
from .store import decimal_to_micros

__all__ = ["VOICE_LANGUAGES", "voice_history", "voice_languages", "voice_price_request", "voice_send"]

logger = logging.getLogger(__name__)

DEFAULT_LANG = "en-us"
VOICES = ("female", "male")

# ClickSend's documented voice languages: code, language and locale, and the genders offered
# (the first gender is the default).
VOICE_LANGUAGES: list[tuple[str, str, tuple[str, ...]]] = [
    ("en-us", "English, US", ("female", "male")),
    ("en-au", "English, Australia", ("female", "male")),
    ("en-gb", "English, UK", ("female", "male")),
    ("en-gb-wls", "English, Wales", ("female", "male")),
    ("en-in", "English, India", ("female",)),
    ("cy-gb-wls", "Welsh, Wales", ("female", "male")),
    ("da-dk", "Danish, Denmark", ("female", "male")),
    ("de-de", "German, Germany", ("female", "male")),
    ("es-es", "Spanish, Spain", ("female", "male")),
    ("es-us", "Spanish, US", ("female", "male")),
    ("fr-ca", "French, Canada", ("female",)),
    ("fr-fr", "French, France", ("female", "male")),
    ("is-is", "Icelandic, Iceland", ("female", "male")),
    ("it-it", "Italian, Italy", ("female", "male")),
    ("nb-no", "Norwegian, Norway", ("female",)),
    ("nl-nl", "Dutch, Netherlands", ("female", "male")),
    ("pl-pl", "Polish, Poland", ("female", "male")),
    ("pt-br", "Portuguese, Brazil", ("female", "male")),
    ("pt-pt", "Portuguese, Portugal", ("male",)),
    ("ro-ro", "Romanian, Romania", ("female",)),
    ("ru-ru", "Russian, Russia", ("female", "male")),
    ("sv-se", "Swedish, Sweden", ("female",)),
    ("tr-tr", "Turkish, Turkey", ("female",)),
]
GENDERS_BY_LANG = {code: genders for code, _, genders in VOICE_LANGUAGES}
CALL_STATUS_TEXTS: dict[str, str | None] = {
    "Scheduled": None,
    "Queued": "Call sent to the network",
    "Completed": "Call completed",
}


def _voice_of(message: dict[str, Any]) -> str:
    return text_value(message.get("voice")).lower()


def _lang_of(message: dict[str, Any]) -> str:
    return text_value(message.get("lang")).lower() or DEFAULT_LANG


def _check_voice_message(message: dict[str, Any]) -> str | None:
    """Return INVALID_VOICE or INVALID_LANG for a bad voice or language, else None."""
    voice = _voice_of(message)
    if voice not in VOICES:
        return "INVALID_VOICE"
    genders = GENDERS_BY_LANG.get(_lang_of(message))
    if genders is None:
        return "INVALID_LANG"
    # NOTE: ClickSend's docs do not say what the live API does with a gender the language
    # lacks (male for en-in). Rejecting it is inferred from the language table.
    if voice not in genders:
        return "INVALID_VOICE"
    return None


def _price_drafts(drafts: list[Draft]) -> None:
    for draft in drafts:
        if draft.accepted:
            draft.parts = voice_parts(draft.body).parts
            draft.price = voice_price(draft.country, draft.parts, draft.to)


def _custom_string(draft: Draft) -> str:
    value = draft.message.get("custom_string")
    return value if isinstance(value, str) else ""


def _voice_message(ctx: Context, draft: Draft, message_id: str) -> dict[str, Any]:
    message = draft.message
    return {
        "date": None,
        "date_added": ctx.now,
        "list_id": str(draft.list_id) if draft.list_id is not None else None,
        "to": draft.to,
        "to_type": draft.number_type,
        "body": draft.body,
        "from": draft.sender,
        "lang": _lang_of(message),
        "voice": _voice_of(message) or None,
        "schedule": draft.schedule or "",
        "message_id": message_id,
        "message_parts": draft.parts,
        "message_price": format_amount(draft.price),
        "custom_string": _custom_string(draft),
        "user_id": ctx.account.user_id,
        "subaccount_id": ctx.account.user_id,
        "country": draft.country,
        "require_input": parse_flag(message.get("require_input")) or 0,
        "machine_detection": parse_flag(message.get("machine_detection")) or 0,
        "machine_detected": None,
        "digits": None,
        "carrier": draft.carrier,
        "status_code": None,
        "status_text": None,
        "status": draft.status,
        "_api_username": ctx.account.username,
    }


def voice_send(ctx: Context) -> tuple[str, Any]:
    """Queue voice calls: charge the accepted ones and record them in history."""
    drafts = prepare_drafts(ctx, read_messages(ctx), shared_sender=False, check=_check_voice_message)
    apply_throttle(ctx, drafts, "voice")
    _price_drafts(drafts)
    total = apply_credit(ctx, drafts)

    messages = []
    for draft in drafts:
        message = _voice_message(ctx, draft, ctx.store.new_message_id())
        messages.append(message)
        if draft.accepted:
            ctx.store.add_message(ctx.account.user_id, "voice", ctx.now, message["message_id"], message)

    ctx.store.change_balance(ctx.account.user_id, -decimal_to_micros(total))
    return "Messages queued for delivery.", send_summary(ctx, drafts, messages)


def voice_price_request(ctx: Context) -> tuple[str, Any]:
    """Price voice calls without sending, charging or recording anything."""
    drafts = prepare_drafts(ctx, read_messages(ctx), shared_sender=False, check=_check_voice_message)
    _price_drafts(drafts)
    messages = [_voice_message(ctx, draft, ctx.store.new_message_id()) for draft in drafts]
    return "Here are your data.", send_summary(ctx, drafts, messages)


def _history_row(now: int, record: dict[str, Any]) -> dict[str, Any]:
    row = dict(record)
    schedule = record["schedule"] if isinstance(record["schedule"], int) else 0
    status, status_code, _ = delivery_status(now, record["date_added"], schedule)
    status_text = CALL_STATUS_TEXTS[status]
    if status == "Completed":
        row["date"] = str(max(record["date_added"], schedule))
    row["status"] = status
    row["status_code"] = status_code
    row["status_text"] = status_text
    return row


def voice_history(ctx: Context) -> tuple[str, Any]:
    """List sent voice calls, filtered on date_added, one page at a time."""
    date_from, date_to = history_date_bounds(ctx)
    records = ctx.store.messages(ctx.account.user_id, "voice", date_from=date_from, date_to=date_to)
    rows = [_history_row(ctx.now, record) for record in records]
    return "Here is your history.", paginate(ctx, rows)


def voice_languages(ctx: Context) -> tuple[str, Any]:
    """List the voice languages. Gender is a string when only one exists, else a list."""
    rows = []
    for code, country, genders in VOICE_LANGUAGES:
        gender: str | list[str] = genders[0] if len(genders) == 1 else list(genders)
        rows.append({"code": code, "country": country, "gender": gender})
    return "Here are the possible languages.", rows
