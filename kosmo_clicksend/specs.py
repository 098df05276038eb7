"""Tool specs: the one place where the ten ClickSend tools are declared.

A spec is frozen data: tool name, KosmoKrator short name, description, operation, HTTP method
and path of the main request, and a JSON Schema (Draft 2020-12) for the arguments. Lua functions,
validation, the Lua reference and the CLI help are all derived from these specs.

The short names are the ones KosmoKrator derives from the tools' display names: it drops the word
"send" because "clicksend" contains it, so ``clicksend_send_sms`` becomes ``sms``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = ["ALL_SPECS", "REGISTRY", "Registry", "ToolSpec"]

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


@dataclass(frozen=True)
class ToolSpec:
    """One ClickSend tool: what it is called, what it does and which arguments it takes."""

    name: str
    short_name: str
    description: str
    operation: Literal["read", "write"]
    method: str
    path: str
    parameters: Mapping[str, Any] = field(repr=False)
    order_by_field: str | None = None
    # Writes only: the endpoint that prices the same body, and the history that lists what was sent.
    price_path: str | None = None
    history_path: str | None = None

    @property
    def full_name(self) -> str:
        return f"{NAMESPACE}.{self.name}"

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.parameters.get("required", ()))

    @property
    def properties(self) -> Mapping[str, Any]:
        return self.parameters.get("properties", {})


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
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


def _flag(description: str) -> dict[str, Any]:
    return {"type": ["boolean", "integer"], "enum": [True, False, 0, 1], "description": description, "examples": [1]}


# An E.164 number, or an alpha tag: 3 to 11 of [A-Za-z0-9+] with at least one non-digit.
_SENDER_PATTERN = r"^(\+[1-9][0-9]{5,14}|(?=[A-Za-z0-9+]*[A-Za-z])[A-Za-z0-9+]{3,11})$"
_TO = {"type": "string", "minLength": 1, "description": "Recipient phone number in E.164 form.", "examples": ["+61411111111"]}
_SCHEDULE = {
    "type": ["string", "integer"],
    "format": "clicksend-date",
    "description": (
        "When to send: YYYY-MM-DD (start of that day), an ISO 8601 date-time, or Unix seconds, in the "
        "configured time zone; leave out to send now."
    ),
    "examples": ["2026-12-24T09:00:00"],
}
_CUSTOM_STRING = {"type": "string", "description": "Your own reference, echoed back in results and history.", "examples": ["order-42"]}
_SOURCE = {"type": "string", "description": "Name of your application, shown in ClickSend's history.", "examples": ["my-agent"]}
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

_SMS_MESSAGE = _object(
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
        "source": _SOURCE,
        "schedule": _SCHEDULE,
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

def _sms_messages(purpose: str) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_MESSAGES_PER_CALL,
        "items": _SMS_MESSAGE,
        "description": f"Messages to {purpose}. Each needs `to` (or `list_id`) and `body`.",
        "examples": [[{"to": "+61411111111", "body": "Hello from the sandbox"}]],
    }

_VOICE_MESSAGE = _object(
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
        "source": _SOURCE,
        "list_id": _LIST_ID,
        "schedule": _SCHEDULE,
        "require_input": _flag("1 to collect a key press from the person called."),
        "machine_detection": _flag("1 to detect an answering machine and leave the message on it."),
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

_EMAIL_RECIPIENT = _object(
    {
        "email": {"type": "string", "format": "email", "description": "Email address.", "examples": ["test1@test.com"]},
        "name": {"type": "string", "description": "Display name.", "examples": ["Ada Example"]},
    },
    ["email"],
)


def _email_recipients(description: str) -> dict[str, Any]:
    one = [{"type": "string", "format": "email"}, _EMAIL_RECIPIENT]
    return {
        "anyOf": [
            *one,
            {"type": "array", "minItems": 1, "maxItems": MAX_RECIPIENTS_PER_CALL, "items": {"anyOf": one}},
        ],
        "description": description,
        "examples": ["test1@test.com"],
    }


_LETTER_RECIPIENT = _object(
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
        "schedule": _SCHEDULE,
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

_HISTORY_PAGING = {
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
_HISTORY_DATES = {
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

ALL_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="clicksend_get_account_balance",
        short_name="get_account_balance",
        description=(
            "Get the ClickSend account's balance and currency. The result adds `balance` (a number) and "
            "`currency` (an ISO code such as AUD) to ClickSend's account details from GET /account."
        ),
        operation="read",
        method="GET",
        path="/account",
        parameters=_object({}),
    ),
    ToolSpec(
        name="clicksend_get_email_history",
        short_name="get_email_history",
        description="List transactional emails sent from the account, oldest first, one page at a time.",
        operation="read",
        method="GET",
        path="/email/history",
        parameters=_object({**_HISTORY_DATES, **_HISTORY_PAGING}),
        order_by_field="date_added",
    ),
    ToolSpec(
        name="clicksend_get_sms_history",
        short_name="get_sms_history",
        description=(
            "List SMS messages sent from the account, oldest first, one page at a time, optionally between "
            "two dates. Dates may be YYYY-MM-DD, ISO 8601 date-times or Unix seconds."
        ),
        operation="read",
        method="GET",
        path="/sms/history",
        parameters=_object({**_HISTORY_DATES, **_HISTORY_PAGING}),
        order_by_field="date",
    ),
    ToolSpec(
        name="clicksend_get_sms_price",
        short_name="get_sms_price",
        description=(
            "Price SMS messages without sending them. Each message needs a `to` phone number and a `body` "
            "text, exactly as for sending; the result gives the parts and price of each message and the total."
        ),
        operation="read",
        method="POST",
        path="/sms/price",
        parameters=_object({"messages": _sms_messages("price")}, ["messages"]),
    ),
    ToolSpec(
        name="clicksend_get_voice_history",
        short_name="get_voice_history",
        description="List text-to-speech voice calls made from the account, oldest first, one page at a time.",
        operation="read",
        method="GET",
        path="/voice/history",
        parameters=_object({**_HISTORY_DATES, **_HISTORY_PAGING}),
        order_by_field="date_added",
    ),
    ToolSpec(
        name="clicksend_list_contact_lists",
        short_name="list_contact_lists",
        description="List the account's contact lists with their ids and contact counts, one page at a time.",
        operation="read",
        method="GET",
        path="/lists",
        parameters=_object(dict(_HISTORY_PAGING)),
    ),
    ToolSpec(
        name="clicksend_send_email",
        short_name="email",
        description=(
            "Send a transactional email. `to` is one address, a `{email, name}` table, or a list of either; "
            "`subject` and an HTML `body` are required. The sender is the verified address given in "
            "`from_email_address`, or the account's first verified address."
        ),
        operation="write",
        method="POST",
        path="/email/send",
        price_path="/email/price",
        parameters=_object(
            {
                "to": _email_recipients("Recipient: an address, a {email, name} table, or a list of either."),
                "cc": _email_recipients("Copy recipients, in the same forms as `to`."),
                "bcc": _email_recipients("Blind copy recipients, in the same forms as `to`."),
                "subject": {"type": "string", "minLength": 1, "description": "Subject line.", "examples": ["Hello"]},
                "body": {"type": "string", "minLength": 1, "description": "Body; HTML is allowed.", "examples": ["<p>Hi</p>"]},
                "from_email_address": {
                    "type": "string",
                    "format": "email",
                    "description": "A verified sender address of the account (see ClickSend's email addresses).",
                    "examples": ["sender@example.com"],
                },
                "from_name": {"type": "string", "description": "Sender display name.", "examples": ["Support"]},
                "schedule": _SCHEDULE,
            },
            ["to", "subject", "body"],
        ),
    ),
    ToolSpec(
        name="clicksend_send_post_letter",
        short_name="post_letter",
        description=(
            "Post a printed letter made from a PDF at `file_url` to each recipient. A recipient takes "
            "ClickSend's address fields (address_name, address_line_1, address_city, address_state, "
            "address_postal_code, address_country) or the short forms name, address, city, state, "
            "postal_code and country. ClickSend stores no letter templates, so `template_id` is kept only for "
            "scripts written for KosmoKrator: any value marks the PDF as laid out on ClickSend's letter "
            "template (template_used = 1), and the id itself is never sent. ClickSend no longer offers post "
            "to new customers."
        ),
        operation="write",
        method="POST",
        path="/post/letters/send",
        price_path="/post/letters/price",
        history_path="/post/letters/history",
        parameters=_object(
            {
                "file_url": {
                    "type": "string",
                    "pattern": "^https?://",
                    "description": "Public URL of the PDF to print; ClickSend requires it for every letter.",
                    "examples": ["https://example.com/letter.pdf"],
                },
                "template_id": {
                    "type": ["integer", "string"],
                    "description": "Kept for KosmoKrator scripts; any value sends template_used = 1.",
                    "examples": [1],
                },
                "template_used": _flag("1 when the PDF follows ClickSend's letter template layout."),
                "recipients": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_RECIPIENTS_PER_CALL,
                    "items": _LETTER_RECIPIENT,
                    "description": "Addresses to post the letter to.",
                    "examples": [
                        [
                            {
                                "name": "Ada Example",
                                "address": "1 Test Street",
                                "city": "Perth",
                                "state": "WA",
                                "postal_code": "11111",
                                "country": "AU",
                            }
                        ]
                    ],
                },
                "duplex": _flag("1 to print on both sides."),
                "colour": _flag("1 to print in colour."),
                "priority_post": _flag("1 for priority post."),
                "return_address_id": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Return address for recipients that name none; defaults to the account's first.",
                    "examples": [1],
                },
                "source": _SOURCE,
            },
            ["file_url", "recipients"],
        ),
    ),
    ToolSpec(
        name="clicksend_send_sms",
        short_name="sms",
        description=(
            "Send one or more SMS messages. Each message needs a `to` phone number and a `body` text, and may "
            "name a sender in `from`. ClickSend can refuse single messages while accepting the rest: the result "
            "lists them in `refused`, and the call fails only when every message was refused."
        ),
        operation="write",
        method="POST",
        path="/sms/send",
        price_path="/sms/price",
        history_path="/sms/history",
        parameters=_object({"messages": _sms_messages("send")}, ["messages"]),
    ),
    ToolSpec(
        name="clicksend_send_voice",
        short_name="voice",
        description=(
            "Call phone numbers and read a text aloud. Each message needs a `to` phone number and a `body` "
            "text; `voice` is female or male (female when left out) and `lang` picks the language. Refused "
            "calls are listed in `refused`, as for SMS."
        ),
        operation="write",
        method="POST",
        path="/voice/send",
        price_path="/voice/price",
        history_path="/voice/history",
        parameters=_object(
            {
                "messages": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_MESSAGES_PER_CALL,
                    "items": _VOICE_MESSAGE,
                    "description": "Calls to make. Each needs `to` (or `list_id`) and `body`.",
                    "examples": [[{"to": "+61411111111", "body": "Your code is 1, 2, 3, 4.", "lang": "en-au"}]],
                }
            },
            ["messages"],
        ),
    ),
)


class Registry:
    """Look up tool specs by tool name, short name or full name."""

    def __init__(self, specs: tuple[ToolSpec, ...]) -> None:
        self._specs = tuple(sorted(specs, key=lambda spec: spec.name))
        index: dict[str, ToolSpec] = {}
        for spec in self._specs:
            for key in (spec.name, spec.short_name, spec.full_name, f"{NAMESPACE}.{spec.short_name}"):
                if key in index and index[key] is not spec:
                    raise ValueError(f"tool key {key!r} names both {index[key].name} and {spec.name}")
                index[key] = spec
        self._index = index

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, key: str) -> ToolSpec | None:
        """Return the spec for a tool name, short name or full name, or None."""
        return self._index.get(key)

    def function_names(self) -> list[str]:
        """Return every name a Lua script may call: short names first, then tool names."""
        return [spec.short_name for spec in self._specs] + [spec.name for spec in self._specs]

    def suggest(self, key: str, limit: int = 3) -> list[str]:
        """Return the callable names closest to a misspelt one."""
        names = self.function_names()
        close = difflib.get_close_matches(key, names, n=limit, cutoff=0.5)
        if close:
            return close
        # No near spelling: fall back to names sharing a word, such as "send" in "send_fax".
        words = {word for word in key.lower().split("_") if len(word) >= 3}
        sharing = [name for name in names if words & set(name.split("_"))]
        sharing.sort(key=lambda name: -difflib.SequenceMatcher(None, key, name).ratio())
        return sharing[:limit]


REGISTRY = Registry(ALL_SPECS)
