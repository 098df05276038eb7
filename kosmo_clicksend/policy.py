"""Guards around every write: permission, dry run, spend cap, journal and unknown outcomes.

``GuardedService`` sits between the Lua host or the CLI and ``ClickSendService``. Reads pass
through once the account may read. A write is validated, then, in this order: refused when the
account's write permission is ``deny``; priced through ClickSend's price endpoint when a dry run,
a spend cap or a confirmation needs the cost; returned unsent on a dry run; refused when it would
take the run's spend past the cap; confirmed when the permission is ``ask``; journalled; sent.
A send whose response was lost is looked up in ClickSend's history by the ``custom_string`` given
to each message, and is never sent again by this code.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import BatchError, ClickSendError, PermissionDeniedError, SpendLimitError, TransportError, UnknownOutcomeError
from .config import Permissions
from .journal import Journal
from .specs import ToolSpec
from .tools import ClickSendService, ToolCall
from .validation import validate_arguments

__all__ = ["GuardedService", "WritePreview", "resolve_permissions"]

logger = logging.getLogger(__name__)

# How far around a lost send the history is searched, in seconds.
_HISTORY_WINDOW = 600
_SAMPLE_CHARS = 60


@dataclass
class WritePreview:
    """Preview of a write: recipients, a sample and the price, for a confirmation prompt or a dry run."""

    tool: str
    account: str
    recipients: list[str]
    sample: str
    cost: float | None
    currency: str | None
    price_result: dict[str, Any] | None = field(default=None, repr=False)

    def describe(self) -> str:
        """Return a short human-readable summary."""
        cost = "unknown" if self.cost is None else f"{self.cost:.4f} {self.currency or ''}".strip()
        shown = ", ".join(self.recipients[:3]) + (f" and {len(self.recipients) - 3} more" if len(self.recipients) > 3 else "")
        return (
            f"{self.tool} on account '{self.account}': {len(self.recipients)} recipient(s) ({shown}); "
            f"price {cost}; sample: {self.sample!r}"
        )


def _recipients_of(spec: ToolSpec, args: Mapping[str, Any]) -> list[str]:
    if "messages" in args:
        return [str(item.get("to") or f"list {item.get('list_id')}") for item in args["messages"]]
    if "recipients" in args:
        return [str(item.get("address_name") or item.get("name") or "?") for item in args["recipients"]]
    to = args.get("to")
    items = to if isinstance(to, list) else [to]
    return [str(item.get("email") if isinstance(item, dict) else item) for item in items]


def _sample_of(args: Mapping[str, Any]) -> str:
    if "messages" in args and args["messages"]:
        text = str(args["messages"][0].get("body", ""))
    elif "subject" in args:
        text = f"{args['subject']}: {args.get('body', '')}"
    else:
        text = str(args.get("file_url", ""))
    return text if len(text) <= _SAMPLE_CHARS else text[:_SAMPLE_CHARS] + "..."


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _cost_of(result: Mapping[str, Any] | None) -> float | None:
    """Read the total price from a price or send response (SMS, voice and letters give total_price; email gives price)."""
    data = result.get("data") if isinstance(result, Mapping) else None
    if not isinstance(data, Mapping):
        return None
    for key in ("total_price", "price"):
        if key in data:
            return _number(data[key])
    return None


def _currency_of(result: Mapping[str, Any] | None) -> str | None:
    data = result.get("data") if isinstance(result, Mapping) else None
    if isinstance(data, Mapping):
        for key in ("_currency", "currency"):
            value = data.get(key)
            if isinstance(value, Mapping) and value.get("currency_name_short"):
                return str(value["currency_name_short"])
    return None


def _priced_recipients(result: Mapping[str, Any] | None) -> list[str]:
    """Return the recipients as ClickSend priced them (normalised numbers), or [] when it did not list them."""
    data = result.get("data") if isinstance(result, Mapping) else None
    messages = data.get("messages") if isinstance(data, Mapping) else None
    if not isinstance(messages, list):
        return []
    return [str(item.get("to")) for item in messages if isinstance(item, Mapping) and item.get("to")]


def _message_ids(result: Mapping[str, Any] | None) -> list[str]:
    data = result.get("data") if isinstance(result, Mapping) else None
    if not isinstance(data, Mapping):
        return []
    items = data.get("messages") or data.get("recipients") or ([data] if "message_id" in data else [])
    return [str(item["message_id"]) for item in items if isinstance(item, Mapping) and item.get("message_id")]


class GuardedService:
    """Run tools for a script or the CLI with the run's permissions, spend cap, dry run and journal.

    ``permissions`` maps account aliases to Permissions; ``confirm`` asks a person about a write
    and returns their decision, or is None when no one can be asked (no terminal). ``spent`` is the
    run's total cost of the writes ClickSend accepted, in the accounts' currency.
    """

    def __init__(
        self,
        service: ClickSendService,
        *,
        permissions: Mapping[str, Permissions],
        dry_run: bool = False,
        max_spend: float | None = None,
        confirm: Callable[[WritePreview], bool] | None = None,
        journal: Journal | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.permissions = dict(permissions)
        self.dry_run = dry_run
        self.max_spend = max_spend
        self.confirm = confirm
        self.journal = journal
        self.spent = 0.0
        # What the dry run's writes would have cost together, to compare with the cap.
        self.projected = 0.0
        self.currency: str | None = None
        self._clock = clock

    def permission(self, account: str, operation: str) -> str:
        """Return allow, ask or deny for an account and an operation (read or write).

        An account without a setting may read and must ask before a write.
        """
        granted = self.permissions.get(account) or Permissions()
        if operation == "read":
            return granted.read or "allow"
        return granted.write or "ask"

    def call(self, target: ToolCall, arguments: Any) -> dict[str, Any]:
        """Run a tool under the run's guards; see the module docstring for the order of checks."""
        spec = target.spec
        permission = self.permission(target.account, spec.operation)
        if permission == "deny":
            granted = self.permissions.get(target.account) or Permissions()
            if granted.denied_by == "--read-only":
                fix = "run without --read-only to allow writes"
            else:
                fix = f"set accounts.{target.account}.permissions.{spec.operation} = \"allow\" in the config file"
                if spec.operation == "write":
                    fix += " or pass --allow-writes"
            raise PermissionDeniedError(f"{spec.name}: {spec.operation}s are denied for account '{target.account}'; {fix}")
        if spec.operation == "read":
            if permission == "ask" and not self._confirmed(None, spec, target):
                raise self._needs_approval(spec, target)
            return self.service.call(target, arguments)
        return self._write(target, validate_arguments(spec, arguments))

    def reconcile(self) -> list[str]:
        """Settle journal entries left pending or unknown by earlier runs, against ClickSend's history.

        An entry whose messages are all in the history becomes ``sent``; one with none of them,
        once the history window has passed, becomes ``not_sent``; anything else stays ``unknown``.
        Returns one line per entry it looked at. Lookup failures are logged and skipped.
        """
        if self.journal is None:
            return []
        notes = []
        for entry in self.journal.unresolved():
            spec = self.service.registry.get(entry.tool)
            if spec is None or entry.account not in self.service.aliases:
                continue
            target = ToolCall(spec, entry.account)
            try:
                rows = self.service.find_in_history(
                    target, entry.custom_strings, since=entry.started - 60, until=entry.started + _HISTORY_WINDOW
                )
            except ClickSendError as exc:
                logger.warning("journal entry %d: the history lookup failed: %s", entry.id, exc)
                continue
            ids = [str(row.get("message_id")) for row in rows.values() if row.get("message_id")]
            if entry.custom_strings and len(rows) == len(entry.custom_strings):
                outcome = "sent"
            elif not rows and self._clock() > entry.started + _HISTORY_WINDOW and entry.custom_strings:
                outcome = "not_sent"
            else:
                outcome = "unknown"
            self.journal.finish(entry.id, outcome, message_ids=ids, error=entry.error)
            notes.append(f"journal entry {entry.id} ({entry.tool}, account {entry.account}): {outcome}")
            logger.info("journal entry %d reconciled as %s", entry.id, outcome)
        return notes

    def _needs_approval(self, spec: ToolSpec, target: ToolCall) -> PermissionDeniedError:
        return PermissionDeniedError(
            f"{spec.name}: this {spec.operation} on account '{target.account}' needs approval and there is no "
            "terminal to ask on; pass --allow-writes (or --dry-run to see it without sending), or set "
            f"accounts.{target.account}.permissions.{spec.operation} = \"allow\" in the config file"
        )

    def _confirmed(self, preview: WritePreview | None, spec: ToolSpec, target: ToolCall) -> bool:
        if self.confirm is None:
            return False
        shown = preview or WritePreview(spec.name, target.account, [], "", None, None)
        return self.confirm(shown)

    def _write(self, target: ToolCall, args: dict[str, Any]) -> dict[str, Any]:
        spec = target.spec
        permission = self.permission(target.account, "write")
        if permission == "ask" and self.confirm is None and not self.dry_run:
            # No one can approve, so fail before even the price request.
            raise self._needs_approval(spec, target)
        args = self._with_custom_strings(spec, args)
        needs_price = self.dry_run or self.max_spend is not None or permission == "ask"
        preview = WritePreview(spec.name, target.account, _recipients_of(spec, args), _sample_of(args), None, None)
        if needs_price:
            priced = self.service.price(target, args)
            preview.price_result = priced
            preview.cost = _cost_of(priced)
            preview.currency = _currency_of(priced)

        if self.dry_run:
            priced_to = _priced_recipients(preview.price_result)
            if priced_to:
                preview.recipients = priced_to
            self.projected = round(self.projected + (preview.cost or 0.0), 6)
            over_cap = self.max_spend is not None and self.projected > self.max_spend + 1e-9
            return {
                "dry_run": True,
                "response_code": "DRY_RUN",
                "response_msg": "Nothing was sent: this is what the call would send and cost.",
                "tool": spec.name,
                "account": target.account,
                "recipients": preview.recipients,
                "total_price": preview.cost,
                "currency": preview.currency,
                "projected_spend": self.projected,
                "within_cap": not over_cap,
                "price": preview.price_result,
            }
        if self.max_spend is not None:
            cost = preview.cost if preview.cost is not None else 0.0
            if self.spent + cost > self.max_spend + 1e-9:
                raise SpendLimitError(
                    f"{spec.name}: this write costs {cost:.4f}, the run has spent {self.spent:.4f}, and together "
                    f"they pass the spending cap of {self.max_spend:.4f}; nothing was sent. Raise --max-spend "
                    "(or max_spend in the config file) to allow it"
                )
        if permission == "ask" and not self._confirmed(preview, spec, target):
            raise PermissionDeniedError(f"{spec.name}: the write on account '{target.account}' was declined; nothing was sent")
        return self._send(target, args, preview)

    def _with_custom_strings(self, spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
        """Give every message or letter without a custom_string one, so a lost response can be found in history."""
        if "messages" in args:
            member = "messages"
        elif "recipients" in args:
            member = "recipients"
        else:
            return args
        run_tag = secrets.token_hex(5)
        items = [
            item if item.get("custom_string") else {**item, "custom_string": f"ks-{run_tag}-{index}"}
            for index, item in enumerate(args[member], start=1)
        ]
        return {**args, member: items}

    def _custom_strings(self, args: Mapping[str, Any]) -> list[str]:
        items = args.get("messages") or args.get("recipients") or []
        return [str(item.get("custom_string")) for item in items if item.get("custom_string")]

    def _send(self, target: ToolCall, args: dict[str, Any], preview: WritePreview) -> dict[str, Any]:
        spec = target.spec
        entry = None
        if self.journal is not None:
            entry = self.journal.begin(
                account=target.account,
                tool=spec.name,
                recipients=preview.recipients,
                custom_strings=self._custom_strings(args),
                cost=preview.cost,
                currency=preview.currency,
            )
        started = self._clock()
        try:
            result = self.service.call(target, args)
        except TransportError as exc:
            if not exc.sent:
                self._finish(entry, "failed", error=str(exc))
                raise
            return self._recover(target, args, exc, entry, started)
        except BatchError as exc:
            self._finish(entry, "partial", message_ids=_message_ids(exc.result), error=str(exc))
            self._add_spend(_cost_of(exc.result), _currency_of(exc.result))
            raise
        except ClickSendError as exc:
            outcome = "refused" if getattr(exc, "refused", None) else "failed"
            self._finish(entry, outcome, error=str(exc))
            raise
        cost = _cost_of(result)
        self._add_spend(cost, _currency_of(result))
        self._finish(entry, "sent", message_ids=_message_ids(result), cost=cost)
        return result

    def _add_spend(self, cost: float | None, currency: str | None) -> None:
        if cost:
            self.spent = round(self.spent + cost, 6)
        if currency and not self.currency:
            self.currency = currency

    def _finish(self, entry: int | None, outcome: str, **details: Any) -> None:
        if self.journal is not None and entry is not None:
            self.journal.finish(entry, outcome, **details)

    def _recover(
        self, target: ToolCall, args: dict[str, Any], error: TransportError, entry: int | None, started: float
    ) -> dict[str, Any]:
        """Look up a send whose response was lost in ClickSend's history; never send it again."""
        spec = target.spec
        wanted = self._custom_strings(args)
        try:
            rows = self.service.find_in_history(target, wanted, since=started - 60, until=started + _HISTORY_WINDOW)
        except ClickSendError as lookup_error:
            logger.warning("%s: looking up a lost send in the history failed: %s", spec.name, lookup_error)
            rows = {}
        found = [rows[tag] for tag in wanted if tag in rows]
        ids = [str(row.get("message_id")) for row in found if row.get("message_id")]
        if wanted and len(found) == len(wanted):
            self._finish(entry, "sent", message_ids=ids, error="the response was lost; every message was found in the history")
            cost = sum(_number(row.get("message_price")) or 0.0 for row in found)
            self._add_spend(cost, None)
            logger.info("%s: the response was lost, but all %d messages are in the history", spec.name, len(found))
            return {
                "http_code": None,
                "response_code": "FOUND_IN_HISTORY",
                "response_msg": "The response was lost, but ClickSend's history shows every message as sent; it was not sent again.",
                "outcome": "found_in_history",
                "data": {"messages": found, "total_count": len(found), "queued_count": len(found)},
                "refused": [],
            }
        self._finish(entry, "unknown", message_ids=ids, error=str(error))
        missing = len(wanted) - len(found)
        raise UnknownOutcomeError(
            f"{spec.name}: the response was lost and the outcome is unknown: {len(found)} of {len(wanted) or 'the'} "
            f"message(s) are in ClickSend's history, {missing if wanted else 'the rest'} are not (yet). Nothing was sent "
            "again; check the history or `kosmo-clicksend journal` before retrying",
            sent=True,
        )


def resolve_permissions(
    accounts: Mapping[str, Any],
    configured: Permissions,
    *,
    sandbox: bool,
    allow_writes: bool = False,
    read_only: bool = False,
) -> dict[str, Permissions]:
    """Combine flags, per-account and top-level config into each account's permissions.

    Defaults: reads allowed; writes ask against the real API and are allowed with the sandbox,
    where ``ask`` also counts as allow because nothing real can be sent. ``--allow-writes`` and
    ``--read-only`` override every config value.
    """
    resolved = {}
    for alias, account in accounts.items():
        own: Permissions = getattr(account, "permissions", None) or Permissions()
        read = own.read or configured.read or "allow"
        write = own.write or configured.write or ("allow" if sandbox else "ask")
        if sandbox:
            read = "allow" if read == "ask" else read
            write = "allow" if write == "ask" else write
        denied_by = "the config file" if "deny" in (read, write) else None
        if allow_writes:
            write = "allow"
            denied_by = "the config file" if read == "deny" else None
        if read_only:
            write = "deny"
            denied_by = "--read-only"
        resolved[alias] = Permissions(read=read, write=write, denied_by=denied_by)
    return resolved
