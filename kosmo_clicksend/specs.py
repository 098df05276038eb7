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
from typing import Any, Literal

from .schemas import (  # noqa: F401  (the constants are re-exported for other modules)
    CLICKSEND_BATCH_SIZE,
    FEMALE_ONLY_LANGUAGES,
    HISTORY_DATES,
    HISTORY_PAGING,
    LETTER_FIELD_ALIASES,
    LETTER_RECIPIENT,
    MALE_ONLY_LANGUAGES,
    MAX_MESSAGES_PER_CALL,
    MAX_RECIPIENTS_PER_CALL,
    MAX_RECORDS,
    NAMESPACE,
    SCHEDULE,
    SOURCE,
    VOICE_LANGUAGES,
    VOICE_MESSAGE,
    email_recipients_schema,
    flag_schema,
    object_schema,
    sms_messages_schema,
)

__all__ = ["ALL_SPECS", "REGISTRY", "Registry", "ToolSpec"]

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
        parameters=object_schema({}),
    ),
    ToolSpec(
        name="clicksend_get_email_history",
        short_name="get_email_history",
        description="List transactional emails sent from the account, oldest first, one page at a time.",
        operation="read",
        method="GET",
        path="/email/history",
        parameters=object_schema({**HISTORY_DATES, **HISTORY_PAGING}),
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
        parameters=object_schema({**HISTORY_DATES, **HISTORY_PAGING}),
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
        parameters=object_schema({"messages": sms_messages_schema("price")}, ["messages"]),
    ),
    ToolSpec(
        name="clicksend_get_voice_history",
        short_name="get_voice_history",
        description="List text-to-speech voice calls made from the account, oldest first, one page at a time.",
        operation="read",
        method="GET",
        path="/voice/history",
        parameters=object_schema({**HISTORY_DATES, **HISTORY_PAGING}),
        order_by_field="date_added",
    ),
    ToolSpec(
        name="clicksend_list_contact_lists",
        short_name="list_contact_lists",
        description="List the account's contact lists with their ids and contact counts, one page at a time.",
        operation="read",
        method="GET",
        path="/lists",
        parameters=object_schema(dict(HISTORY_PAGING)),
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
        parameters=object_schema(
            {
                "to": email_recipients_schema("Recipient: an address, a {email, name} table, or a list of either."),
                "cc": email_recipients_schema("Copy recipients, in the same forms as `to`."),
                "bcc": email_recipients_schema("Blind copy recipients, in the same forms as `to`."),
                "subject": {"type": "string", "minLength": 1, "description": "Subject line.", "examples": ["Hello"]},
                "body": {"type": "string", "minLength": 1, "description": "Body; HTML is allowed.", "examples": ["<p>Hi</p>"]},
                "from_email_address": {
                    "type": "string",
                    "format": "email",
                    "description": "A verified sender address of the account (see ClickSend's email addresses).",
                    "examples": ["sender@example.com"],
                },
                "from_name": {"type": "string", "description": "Sender display name.", "examples": ["Support"]},
                "schedule": SCHEDULE,
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
        parameters=object_schema(
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
                "template_used": flag_schema("1 when the PDF follows ClickSend's letter template layout."),
                "recipients": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_RECIPIENTS_PER_CALL,
                    "items": LETTER_RECIPIENT,
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
                "duplex": flag_schema("1 to print on both sides."),
                "colour": flag_schema("1 to print in colour."),
                "priority_post": flag_schema("1 for priority post."),
                "return_address_id": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Return address for recipients that name none; defaults to the account's first.",
                    "examples": [1],
                },
                "source": SOURCE,
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
        parameters=object_schema({"messages": sms_messages_schema("send")}, ["messages"]),
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
        parameters=object_schema(
            {
                "messages": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_MESSAGES_PER_CALL,
                    "items": VOICE_MESSAGE,
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
