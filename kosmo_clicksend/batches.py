"""Prepare SMS and voice messages, send them in ClickSend-sized batches and merge the responses.

Before anything is sent, every ``to`` is normalised to E.164 and every ``schedule`` becomes Unix
seconds; a number that cannot be real fails the whole call. A call of more than 1000 messages
is split into requests of at most 1000, in order, and the results are merged as if ClickSend had
received one request. If a later batch fails, the error says exactly which messages were sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from .dates import to_unix_seconds
from .errors import ArgumentError, BatchError, ClickSendError, TransportError
from .payloads import message_list_body
from .phones import normalize_number
from .segments import sms_parts, voice_parts
from .specs import CLICKSEND_BATCH_SIZE, ToolSpec

if TYPE_CHECKING:
    from .client import ClickSendClient

__all__ = ["PreparedMessages", "prepare_messages", "send_in_batches"]


@dataclass
class PreparedMessages:
    """Messages ready to send, with what the preparation changed or measured."""

    messages: list[dict[str, Any]]
    normalized: list[dict[str, Any]] = field(default_factory=list)
    body_encoding: list[dict[str, Any]] = field(default_factory=list)


def _body_report(index: int, body: str, voice: bool) -> dict[str, Any]:
    sms = sms_parts(body)
    counted = voice_parts(body) if voice else sms
    return {
        "index": index,
        "encoding": counted.encoding,
        "characters": counted.characters,
        "parts": counted.parts,
        "unicode_characters": list(sms.unicode_characters),
    }


def prepare_messages(
    spec: ToolSpec,
    messages: list[dict[str, Any]],
    *,
    default_country: Callable[[], str | None],
    zone: tzinfo,
) -> PreparedMessages:
    """Normalise recipients and schedules and fill defaults; raise ArgumentError listing every bad number.

    ``default_country`` is called at most once, and only when a local number without a
    ``country`` needs it (it may ask ClickSend for the account's default).
    """
    item_schema: Mapping[str, Any] = spec.properties["messages"]["items"]
    voice = spec.path.startswith("/voice")
    problems: list[str] = []
    normalized: list[dict[str, Any]] = []
    prepared: list[dict[str, Any]] = []
    fallback: list[str | None] = []

    def region_for(message: dict[str, Any]) -> str | None:
        if message.get("country"):
            return str(message["country"])
        if not fallback:
            fallback.append(default_country())
        return fallback[0]

    for index, message in enumerate(messages, start=1):
        item = dict(message)
        raw_to = item.get("to")
        if isinstance(raw_to, str):
            region = None if raw_to.strip().startswith(("+", "00")) else region_for(item)
            try:
                item["to"] = normalize_number(raw_to, region)
            except ValueError as exc:
                problems.append(f"messages[{index}].to {raw_to!r} is not a valid phone number: {exc}")
            else:
                if item["to"] != raw_to:
                    normalized.append({"index": index, "to": raw_to, "sent": item["to"]})
        if "schedule" in item:
            item["schedule"] = to_unix_seconds(item["schedule"], zone, end_of_day=False)
        if "list_id" in item:
            # ClickSend's current OpenAPI spec types list_id as a string; older docs used a number.
            item["list_id"] = str(item["list_id"])
        prepared.append(item)
    if problems:
        raise ArgumentError(spec.name, problems)

    body = message_list_body(prepared, item_schema)["messages"]
    report = [_body_report(index, item["body"], voice) for index, item in enumerate(body, start=1)]
    return PreparedMessages(body, normalized, report)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge the responses of several batches into one, as if ClickSend had received one request."""
    if len(results) == 1:
        return results[0]
    merged = dict(results[0])
    datas: list[dict[str, Any]] = []
    for result in results:
        member = result.get("data")
        datas.append(member if isinstance(member, dict) else {})
    data: dict[str, Any] = dict(datas[0])
    data["total_price"] = round(sum(_number(item.get("total_price")) for item in datas), 6)
    for key in ("total_count", "queued_count", "blocked_count"):
        if any(key in item for item in datas):
            data[key] = sum(int(_number(item.get(key))) for item in datas)
    data["messages"] = [message for item in datas for message in (item.get("messages") or [])]
    for item in datas:
        for key in ("_currency", "currency"):
            if key in item and key not in data:
                data[key] = item[key]
    merged["data"] = data
    return merged


def _span(first: int, last: int) -> str:
    return f"message {first}" if first == last else f"messages {first}-{last}"


def send_in_batches(spec: ToolSpec, client: ClickSendClient, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Send messages in requests of at most 1000 and return the merged result.

    A failure in the first batch is raised as it is, since nothing was sent. A failure in a later
    batch of a send raises BatchError naming the messages sent, failed (or of unknown outcome)
    and not sent; later batches are not attempted.
    """
    batches = [messages[start : start + CLICKSEND_BATCH_SIZE] for start in range(0, len(messages), CLICKSEND_BATCH_SIZE)]
    results: list[dict[str, Any]] = []
    for number, batch in enumerate(batches):
        try:
            results.append(
                client.request(spec.name, spec.method, spec.path, body={"messages": batch}, idempotent=spec.operation == "read")
            )
        except ClickSendError as exc:
            if number == 0 or spec.operation == "read":
                raise
            first = number * CLICKSEND_BATCH_SIZE + 1
            last = first + len(batch) - 1
            unknown = isinstance(exc, TransportError) and exc.sent
            parts = [f"{_span(1, first - 1)} were sent in {number} batch{'es' if number > 1 else ''}"]
            if unknown:
                parts.append(f"the outcome of {_span(first, last)} is unknown (check the history before sending them again)")
            else:
                parts.append(f"{_span(first, last)} failed")
            if last < len(messages):
                parts.append(f"{_span(last + 1, len(messages))} were not sent")
            cause = str(exc).removeprefix(f"{spec.name}: ")
            raise BatchError(spec.name, "; ".join(parts) + f": {cause}", sent=first - 1, result=_merge(results)) from exc
    return _merge(results)
