"""JSON Schema pieces (Draft 2020-12) for the tools' parameters, and the limits they encode.

``specs`` assembles these into one schema per tool. Unknown fields are rejected at every level
(``additionalProperties: false``), so a misspelt field is an error rather than silently dropped.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = [
    "CLICKSEND_BATCH_SIZE",
    "FEMALE_ONLY_LANGUAGES",
    "HISTORY_DATES",
    "HISTORY_PAGING",
    "LETTER_FIELD_ALIASES",
    "LETTER_RECIPIENT",
    "MALE_ONLY_LANGUAGES",
    "MAX_MESSAGES_PER_CALL",
    "MAX_RECIPIENTS_PER_CALL",
    "MAX_RECORDS",
    "NAMESPACE",
    "SCHEDULE",
    "SOURCE",
    "VOICE_LANGUAGES",
    "VOICE_MESSAGE",
    "email_recipients_schema",
    "flag_schema",
    "object_schema",
    "sms_messages_schema",
]

NAMESPACE = "clicksend"
# ClickSend takes at most 1000 messages per request; larger calls are split into such batches.
CLICKSEND_BATCH_SIZE = 1000
MAX_MESSAGES_PER_CALL = 10_000
MAX_RECIPIENTS_PER_CALL = 1000
# History rows gathered by max_records, in pages of 100.
MAX_RECORDS = 1000

# Voice languages ClickSend documents for GET /v3/voice/lang, as of its v3 docs.
VOICE_LANGUAGES = (
    "cy-gb-wls", "da-dk", "de-de", "en-au", "en-gb", "en-gb-wls", "en-in", "en-us", "es-es",
    "es-us", "fr-ca", "fr-fr", "is-is", "it-it", "nb-no", "nl-nl", "pl-pl", "pt-br", "pt-pt",
    "ro-ro", "ru-ru", "sv-se", "tr-tr",
)
# Languages ClickSend offers in one voice only; the others have both.
FEMALE_ONLY_LANGUAGES = ("en-in", "fr-ca", "nb-no", "ro-ro", "sv-se", "tr-tr")
MALE_ONLY_LANGUAGES = ("pt-pt",)


def object_schema(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def _page() -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "description": "Page number.", "examples": [1]}


def _limit() -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "description": "Rows per page. Below ClickSend's minimum of 15, a page of 15 is fetched and cut to this size.",
        "examples": [15],
    }


def _date(edge: str) -> dict[str, Any]:
    return {
        "type": ["string", "integer"],
        "format": "clicksend-date",
        "description": (
            f"{edge} of the range: YYYY-MM-DD, an ISO 8601 date-time, or Unix seconds. "
            "Sent to ClickSend as Unix seconds in the configured time zone (UTC by default)"
            + ("; a date without a time means the end of that day." if edge == "End" else ".")
        ),
        "examples": ["2026-11-01" if edge == "Start" else "2026-11-30"],
    }


def flag_schema(description: str) -> dict[str, Any]:
    return {"type": ["boolean", "integer"], "enum": [True, False, 0, 1], "description": description, "examples": [1]}


# An E.164 number, or an alpha tag: 3 to 11 of [A-Za-z0-9+] with at least one non-digit.
_SENDER_PATTERN = r"^(\+[1-9][0-9]{5,14}|(?=[A-Za-z0-9+]*[A-Za-z])[A-Za-z0-9+]{3,11})$"
_TO = {
    "type": "string",
    "minLength": 1,
    "format": "phone",
    "description": "Recipient phone number: E.164, or a local number read with `country` or the account's country.",
    "examples": ["+61411111111"],
}
SCHEDULE = {
    "type": ["string", "integer"],
    "format": "clicksend-date",
    "description": (
        "When to send: YYYY-MM-DD (start of that day), an ISO 8601 date-time, or Unix seconds, in the "
        "configured time zone; leave out to send now."
    ),
    "examples": ["2026-12-24T09:00:00"],
}
_CUSTOM_STRING = {"type": "string", "description": "Your own reference, echoed back in results and history.", "examples": ["order-42"]}
SOURCE = {"type": "string", "description": "Name of your application, shown in ClickSend's history.", "examples": ["my-agent"]}
_LIST_ID = {"type": "integer", "minimum": 1, "description": "Contact list to send to, in place of `to`.", "examples": [428]}
_COUNTRY = {
    "type": "string",
    "pattern": "^[A-Za-z]{2}$",
    "description": "ISO 3166 two-letter country of the recipient, used to read a local number.",
    "examples": ["AU"],
}
_TO_OR_LIST = [{"required": ["to"]}, {"required": ["list_id"]}]
# ClickSend lets list_id silently win over to, so a message giving both is rejected instead.
_NOT_TO_AND_LIST = {"required": ["to", "list_id"]}

_SMS_MESSAGE = object_schema(
    {
        "to": _TO,
        "body": {"type": "string", "minLength": 1, "description": "Text of the SMS.", "examples": ["Your order has shipped."]},
        "from": {
            "type": "string",
            "pattern": _SENDER_PATTERN,
            "description": (
                "Sender: a dedicated number in E.164, or an approved alpha tag of 3 to 11 letters, digits or + "
                "with at least one non-digit; leave out for a shared number."
            ),
            "examples": ["MyShop"],
        },
        "source": SOURCE,
        "schedule": SCHEDULE,
        "custom_string": _CUSTOM_STRING,
        "list_id": _LIST_ID,
        "country": _COUNTRY,
        "from_email": {
            "type": "string",
            "format": "email",
            "description": "Email address that receives replies to this SMS.",
            "examples": ["replies@example.com"],
        },
    },
    ["body"],
    anyOf=_TO_OR_LIST,
    **{"not": _NOT_TO_AND_LIST},
)

def sms_messages_schema(purpose: str) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_MESSAGES_PER_CALL,
        "items": _SMS_MESSAGE,
        "description": f"Messages to {purpose}. Each needs `to` (or `list_id`) and `body`.",
        "examples": [[{"to": "+61411111111", "body": "Hello from the sandbox"}]],
    }

VOICE_MESSAGE = object_schema(
    {
        "to": _TO,
        "body": {
            "type": "string",
            "minLength": 1,
            "description": "Text read out by the voice; a comma makes a short pause.",
            "examples": ["Your code is 1, 2, 3, 4."],
        },
        "voice": {
            "type": "string",
            "enum": ["female", "male"],
            "default": "female",
            "description": (
                "Voice gender; ClickSend requires it, so female is sent when left out "
                "(male for pt-pt, the one language with only a male voice)."
            ),
            "examples": ["female"],
        },
        "lang": {
            "type": "string",
            "enum": list(VOICE_LANGUAGES),
            "default": "en-us",
            "description": "Language and accent of the voice; en-us when left out.",
            "examples": ["en-au"],
        },
        "custom_string": _CUSTOM_STRING,
        "country": _COUNTRY,
        "source": SOURCE,
        "list_id": _LIST_ID,
        "schedule": SCHEDULE,
        "require_input": flag_schema("1 to collect a key press from the person called."),
        "machine_detection": flag_schema("1 to detect an answering machine and leave the message on it."),
    },
    ["body"],
    anyOf=_TO_OR_LIST,
    **{"not": _NOT_TO_AND_LIST},
    allOf=[
        {
            "if": {"properties": {"lang": {"enum": list(genders)}}, "required": ["lang", "voice"]},
            "then": {"properties": {"voice": {"const": voice, "description": "the only voice of this language"}}},
        }
        for genders, voice in ((FEMALE_ONLY_LANGUAGES, "female"), (MALE_ONLY_LANGUAGES, "male"))
    ],
)

_EMAIL_RECIPIENT = object_schema(
    {
        "email": {"type": "string", "format": "email", "description": "Email address.", "examples": ["test1@test.com"]},
        "name": {"type": "string", "description": "Display name.", "examples": ["Ada Example"]},
    },
    ["email"],
)


def email_recipients_schema(description: str) -> dict[str, Any]:
    one = [{"type": "string", "format": "email"}, _EMAIL_RECIPIENT]
    return {
        "anyOf": [
            *one,
            {"type": "array", "minItems": 1, "maxItems": MAX_RECIPIENTS_PER_CALL, "items": {"anyOf": one}},
        ],
        "description": description,
        "examples": ["test1@test.com"],
    }


LETTER_RECIPIENT = object_schema(
    {
        "address_name": {"type": "string", "minLength": 1, "description": "Name of the addressee.", "examples": ["Ada Example"]},
        "address_line_1": {"type": "string", "minLength": 1, "description": "First address line.", "examples": ["1 Test Street"]},
        "address_line_2": {"type": "string", "description": "Second address line.", "examples": ["Unit 2"]},
        "address_city": {"type": "string", "minLength": 1, "description": "City or suburb.", "examples": ["Perth"]},
        "address_state": {"type": "string", "minLength": 1, "description": "State or region.", "examples": ["WA"]},
        "address_postal_code": {"type": "string", "minLength": 1, "description": "Postal code.", "examples": ["11111"]},
        "address_country": {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "ISO 3166 two-letter country.",
            "examples": ["AU"],
        },
        "return_address_id": {
            "type": "integer",
            "minimum": 1,
            "description": "Return address for this letter; defaults to the account's first return address.",
            "examples": [1],
        },
        "schedule": SCHEDULE,
        "custom_string": _CUSTOM_STRING,
        "name": {"type": "string", "minLength": 1, "description": "Short form of address_name.", "examples": ["Ada Example"]},
        "address": {"type": "string", "minLength": 1, "description": "Short form of address_line_1.", "examples": ["1 Test Street"]},
        "city": {"type": "string", "minLength": 1, "description": "Short form of address_city.", "examples": ["Perth"]},
        "state": {"type": "string", "minLength": 1, "description": "Short form of address_state.", "examples": ["WA"]},
        "postal_code": {"type": "string", "minLength": 1, "description": "Short form of address_postal_code.", "examples": ["11111"]},
        "country": {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "Short form of address_country.",
            "examples": ["AU"],
        },
    },
    allOf=[
        {"anyOf": [{"required": ["address_name"]}, {"required": ["name"]}]},
        {"anyOf": [{"required": ["address_line_1"]}, {"required": ["address"]}]},
        {"anyOf": [{"required": ["address_city"]}, {"required": ["city"]}]},
        {"anyOf": [{"required": ["address_state"]}, {"required": ["state"]}]},
        {"anyOf": [{"required": ["address_postal_code"]}, {"required": ["postal_code"]}]},
        {"anyOf": [{"required": ["address_country"]}, {"required": ["country"]}]},
    ],
)

# Short recipient keys documented by the published integration reference, and ClickSend's names for them.
LETTER_FIELD_ALIASES = MappingProxyType(
    {
        "name": "address_name",
        "address": "address_line_1",
        "city": "address_city",
        "state": "address_state",
        "postal_code": "address_postal_code",
        "country": "address_country",
    }
)

HISTORY_PAGING = {
    "limit": _limit(),
    "page": _page(),
    "max_records": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_RECORDS,
        "description": (
            "Gather up to this many rows across pages into one list, in place of page and limit; "
            f"at most {MAX_RECORDS}, such as 200."
        ),
    },
}
HISTORY_DATES = {
    "date_from": _date("Start"),
    "date_to": _date("End"),
    "order": {
        "type": "string",
        "enum": ["oldest", "newest"],
        "default": "oldest",
        "description": "Row order; ClickSend's own default is oldest first.",
        "examples": ["newest"],
    },
}
