"""A journal of every write: recorded before the request is sent and updated after the answer.

The journal is an SQLite file in the user data directory (``journal.sqlite3``), created with mode
0600. An entry left ``pending`` means the process stopped between request and answer; the next run
reconciles such entries (and ``unknown`` ones) against ClickSend's history. Recipients are stored
masked; API keys and message bodies are never stored.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Journal", "JournalEntry", "mask_recipient"]

OUTCOMES = ("pending", "sent", "partial", "refused", "failed", "unknown", "not_sent")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    account TEXT NOT NULL,
    tool TEXT NOT NULL,
    message_count INTEGER NOT NULL,
    recipients TEXT NOT NULL,
    custom_strings TEXT NOT NULL,
    cost REAL,
    currency TEXT,
    message_ids TEXT NOT NULL DEFAULT '[]',
    outcome TEXT NOT NULL,
    error TEXT
)
"""


def mask_recipient(value: str) -> str:
    """Hide the middle of a phone number, email address or name, keeping enough to recognise it."""
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(text) <= 6:
        return text[:1] + "*" * (len(text) - 1)
    return text[:4] + "*" * (len(text) - 7) + text[-3:]


@dataclass
class JournalEntry:
    """One journalled write; ``recipients`` are masked, times are Unix seconds."""

    id: int
    started: float
    finished: float | None
    account: str
    tool: str
    message_count: int
    recipients: list[str]
    custom_strings: list[str]
    cost: float | None
    currency: str | None
    message_ids: list[str]
    outcome: str
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data (custom strings left out: they are internal)."""
        data = asdict(self)
        del data["custom_strings"]
        return data


class Journal:
    """Record writes in SQLite; ``path`` None keeps the journal in memory (tests, one-off runs)."""

    def __init__(self, path: str | os.PathLike[str] | None, *, clock: Any = time.time) -> None:
        self.path = Path(path) if path is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Create the file private before SQLite opens it, so it is never readable by others.
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(descriptor)
            os.chmod(self.path, 0o600)
        self._db = sqlite3.connect(str(self.path) if self.path else ":memory:", check_same_thread=False, timeout=10)
        with self._db:
            self._db.execute(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def begin(
        self,
        *,
        account: str,
        tool: str,
        recipients: list[str],
        custom_strings: list[str],
        cost: float | None = None,
        currency: str | None = None,
    ) -> int:
        """Record a write about to be sent and return its entry id; the outcome starts as ``pending``."""
        masked = [mask_recipient(item) for item in recipients]
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO entries (started, account, tool, message_count, recipients, custom_strings, cost, currency, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                (self._clock(), account, tool, len(recipients), json.dumps(masked), json.dumps(custom_strings), cost, currency),
            )
            return int(cursor.lastrowid or 0)

    def finish(
        self,
        entry_id: int,
        outcome: str,
        *,
        message_ids: list[str] | None = None,
        cost: float | None = None,
        error: str | None = None,
    ) -> None:
        """Record the outcome of a write: one of sent, partial, refused, failed, unknown, not_sent."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown journal outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
        with self._lock, self._db:
            self._db.execute(
                "UPDATE entries SET finished = ?, outcome = ?, message_ids = ?, cost = COALESCE(?, cost), error = ? WHERE id = ?",
                (self._clock(), outcome, json.dumps(message_ids or []), cost, error, entry_id),
            )

    def _rows(self, where: str, params: tuple[Any, ...]) -> list[JournalEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, started, finished, account, tool, message_count, recipients, custom_strings, cost, currency, "
                f"message_ids, outcome, error FROM entries {where}",
                params,
            ).fetchall()
        return [
            JournalEntry(
                id=row[0],
                started=row[1],
                finished=row[2],
                account=row[3],
                tool=row[4],
                message_count=row[5],
                recipients=json.loads(row[6]),
                custom_strings=json.loads(row[7]),
                cost=row[8],
                currency=row[9],
                message_ids=json.loads(row[10]),
                outcome=row[11],
                error=row[12],
            )
            for row in rows
        ]

    def recent(self, limit: int = 50) -> list[JournalEntry]:
        """Return the newest entries first."""
        return self._rows("ORDER BY id DESC LIMIT ?", (limit,))

    def unresolved(self) -> list[JournalEntry]:
        """Return entries whose outcome is still pending or unknown, oldest first."""
        return self._rows("WHERE outcome IN ('pending', 'unknown') ORDER BY id", ())
