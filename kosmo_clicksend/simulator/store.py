"""SQLite state of the ClickSend simulator: accounts, senders, addresses, lists and history.

One ``sqlite3`` connection serves every thread. ``Store.transaction`` holds a lock for the
whole transaction, so each simulated request runs alone and either commits or rolls back
as a unit. All other methods expect to be called inside ``transaction``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Account",
    "Channel",
    "Store",
    "StoreClosedError",
    "decimal_to_micros",
    "hash_api_key",
    "looks_like_email",
    "micros_to_decimal",
]

logger = logging.getLogger(__name__)

Channel = Literal["sms", "voice", "email", "letter"]

SCHEMA_VERSION = "1"
MICROS = Decimal(1_000_000)

# Syntactic plausibility only: one "@", no spaces, and a dot in the domain.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    user_id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    api_key_sha256 TEXT NOT NULL,
    balance_micros INTEGER NOT NULL,
    currency TEXT NOT NULL,
    default_country TEXT NOT NULL,
    date_sign_up INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS email_addresses (
    email_address_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES accounts(user_id),
    email_address TEXT NOT NULL,
    verified INTEGER NOT NULL,
    date_added INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS return_addresses (
    return_address_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES accounts(user_id),
    address_name TEXT NOT NULL,
    address_line_1 TEXT NOT NULL,
    address_line_2 TEXT NOT NULL,
    address_city TEXT NOT NULL,
    address_state TEXT NOT NULL,
    address_postal_code TEXT NOT NULL,
    address_country TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contact_lists (
    list_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES accounts(user_id),
    list_name TEXT NOT NULL,
    list_email_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    contact_id INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id INTEGER NOT NULL REFERENCES contact_lists(list_id),
    phone_number TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    date_added INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES accounts(user_id),
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'voice', 'email', 'letter')),
    date INTEGER NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_user_channel_date ON messages (user_id, channel, date);
"""

# Contact lists every new account starts with. The phone numbers are ClickSend's test
# numbers, so sending to a seeded list costs nothing.
SEED_LISTS: dict[str, list[tuple[str, str, str, str]]] = {
    "Customers": [
        ("+61411111111", "Alice", "Nguyen", "alice.nguyen@example.com"),
        ("+61422222222", "Bob", "Smith", "bob.smith@example.com"),
        ("+61433333333", "Carol", "Jones", "carol.jones@example.com"),
    ],
    "Staff": [
        ("+61444444444", "Dave", "Brown", "dave.brown@example.com"),
        ("+14055555555", "Erin", "Wilson", "erin.wilson@example.com"),
    ],
}
SEED_VERIFIED_EMAIL = "sender@example.com"
SEED_UNVERIFIED_EMAIL = "unverified@example.com"
SEED_RETURN_ADDRESS = {
    "address_name": "Sandbox Sender",
    "address_line_1": "1 Example Street",
    "address_line_2": "",
    "address_city": "Melbourne",
    "address_state": "VIC",
    "address_postal_code": "3000",
    "address_country": "AU",
}
LIST_EMAIL_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def looks_like_email(text: str) -> bool:
    """Return whether text is a syntactically plausible email address."""
    return bool(EMAIL_PATTERN.match(text))


def micros_to_decimal(micros: int) -> Decimal:
    """Convert millionths of a currency unit to a Decimal amount."""
    return Decimal(micros) / MICROS


def decimal_to_micros(amount: Decimal) -> int:
    """Convert a Decimal amount to whole millionths of a currency unit."""
    return int((amount * MICROS).to_integral_value())


def hash_api_key(api_key: str) -> str:
    """Hash an API key, so that the database stores only the hash."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class StoreClosedError(RuntimeError):
    """Raised when the store is used after close()."""


@dataclass(frozen=True)
class Account:
    """One simulated ClickSend account. ``user_id`` also serves as ``subaccount_id``."""

    user_id: int
    username: str
    balance_micros: int
    currency: str
    default_country: str
    date_sign_up: int
    api_key_sha256: str = field(repr=False)

    @property
    def balance(self) -> Decimal:
        return micros_to_decimal(self.balance_micros)


class Store:
    """SQLite-backed state, shared by all threads through one locked connection.

    ``path`` None keeps the state in memory. Message ids come from ``random.Random(seed)``
    and the number of ids drawn is stored, so a new Store on the same file continues the
    same sequence instead of repeating ids.
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, seed: int) -> None:
        if path is None:
            target = ":memory:"
        else:
            file_path = Path(path)
            file_path.parent.mkdir(parents=True, exist_ok=True)
            target = str(file_path)
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)
        self._rng_position = 0
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            target, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.executescript(SCHEMA)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        except sqlite3.Error:
            self._conn.close()
            self._conn = None
            raise
        logger.debug("Opened simulator state at %s", target)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and run the body in one SQLite transaction, rolled back on any exception."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection. Calling it again does nothing."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosedError("The simulator state is closed. Create a new Simulator.")
        return self._conn

    def _query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._connection().execute(sql, parameters).fetchall()]

    def _query_one(self, sql: str, parameters: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        row = self._connection().execute(sql, parameters).fetchone()
        return dict(row) if row is not None else None

    # Identifiers

    def _draw_bits(self) -> int:
        """Draw the next 128 random bits of the persisted sequence."""
        row = self._query_one("SELECT value FROM meta WHERE key = 'ids_drawn'")
        position = int(row["value"]) if row else 0
        if position != self._rng_position:
            # Another Store (an earlier run, or another process) drew ids from this file,
            # so replay the sequence up to the stored position.
            self._rng = random.Random(self._seed)
            for _ in range(position):
                self._rng.getrandbits(128)
        bits = self._rng.getrandbits(128)
        self._rng_position = position + 1
        self._connection().execute(
            "INSERT INTO meta (key, value) VALUES ('ids_drawn', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(self._rng_position),),
        )
        return bits

    def new_message_id(self) -> str:
        """Return a new upper-case GUID, like ClickSend's message ids."""
        return str(uuid.UUID(int=self._draw_bits())).upper()

    def new_list_email_id(self) -> str:
        """Return a new 16-character upper-case alphanumeric list email id."""
        value = self._draw_bits()
        characters = []
        for _ in range(16):
            value, index = divmod(value, len(LIST_EMAIL_ID_ALPHABET))
            characters.append(LIST_EMAIL_ID_ALPHABET[index])
        return "".join(characters)

    # Accounts

    def get_account(self, username: str) -> Account | None:
        """Return the account with this username, or None."""
        row = self._query_one("SELECT * FROM accounts WHERE username = ?", (username,))
        return Account(**row) if row is not None else None

    def get_account_by_id(self, user_id: int) -> Account:
        """Return the account with this user id, or raise KeyError if there is none."""
        row = self._query_one("SELECT * FROM accounts WHERE user_id = ?", (user_id,))
        if row is None:
            raise KeyError(f"No simulated account has user_id {user_id}.")
        return Account(**row)

    def create_account(
        self,
        username: str,
        api_key: str,
        *,
        now: int,
        balance: Decimal,
        currency: str,
        default_country: str,
    ) -> Account:
        """Create an account and seed its senders, return address and contact lists."""
        conn = self._connection()
        cursor = conn.execute(
            "INSERT INTO accounts (username, api_key_sha256, balance_micros, currency, default_country, date_sign_up) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (username, hash_api_key(api_key), decimal_to_micros(balance), currency, default_country, now),
        )
        user_id = int(cursor.lastrowid or 0)

        self.add_email_address(user_id, SEED_VERIFIED_EMAIL, verified=True, now=now)
        if looks_like_email(username) and username.lower() != SEED_VERIFIED_EMAIL:
            self.add_email_address(user_id, username, verified=True, now=now)
        self.add_email_address(user_id, SEED_UNVERIFIED_EMAIL, verified=False, now=now)

        self.add_return_address(user_id, SEED_RETURN_ADDRESS)

        for list_name, members in SEED_LISTS.items():
            list_id = self.add_contact_list(user_id, list_name)
            for phone_number, first_name, last_name, email in members:
                conn.execute(
                    "INSERT INTO contacts (list_id, phone_number, first_name, last_name, email, date_added) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (list_id, phone_number, first_name, last_name, email, now),
                )

        logger.info("Created simulated ClickSend account %r (user_id %d)", username, user_id)
        return self.get_account_by_id(user_id)

    def change_balance(self, user_id: int, delta_micros: int) -> None:
        """Add delta_micros (negative to charge) to the account balance."""
        self._connection().execute(
            "UPDATE accounts SET balance_micros = balance_micros + ? WHERE user_id = ?", (delta_micros, user_id)
        )

    # Email sender addresses

    def email_addresses(self, user_id: int) -> list[dict[str, Any]]:
        """Return the account's sender email addresses, oldest first."""
        return self._query(
            "SELECT email_address_id, email_address, verified, date_added FROM email_addresses "
            "WHERE user_id = ? ORDER BY email_address_id",
            (user_id,),
        )

    def email_address(self, user_id: int, email_address_id: int) -> dict[str, Any] | None:
        """Return one sender email address of the account, or None."""
        return self._query_one(
            "SELECT email_address_id, email_address, verified, date_added FROM email_addresses "
            "WHERE user_id = ? AND email_address_id = ?",
            (user_id, email_address_id),
        )

    def add_email_address(self, user_id: int, address: str, *, verified: bool, now: int) -> dict[str, Any]:
        """Add a sender email address and return its row."""
        cursor = self._connection().execute(
            "INSERT INTO email_addresses (user_id, email_address, verified, date_added) VALUES (?, ?, ?, ?)",
            (user_id, address, int(verified), now),
        )
        row = self.email_address(user_id, int(cursor.lastrowid or 0))
        assert row is not None
        return row

    # Return addresses

    def return_addresses(self, user_id: int) -> list[dict[str, Any]]:
        """Return the account's return addresses, oldest first."""
        return self._query(
            "SELECT * FROM return_addresses WHERE user_id = ? ORDER BY return_address_id", (user_id,)
        )

    def return_address(self, user_id: int, return_address_id: int) -> dict[str, Any] | None:
        """Return one return address of the account, or None."""
        return self._query_one(
            "SELECT * FROM return_addresses WHERE user_id = ? AND return_address_id = ?",
            (user_id, return_address_id),
        )

    def add_return_address(self, user_id: int, address: dict[str, str]) -> dict[str, Any]:
        """Add a return address from its address_* fields and return its row."""
        cursor = self._connection().execute(
            "INSERT INTO return_addresses (user_id, address_name, address_line_1, address_line_2, address_city, "
            "address_state, address_postal_code, address_country) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                address["address_name"],
                address["address_line_1"],
                address.get("address_line_2", ""),
                address["address_city"],
                address.get("address_state", ""),
                address["address_postal_code"],
                address["address_country"],
            ),
        )
        row = self.return_address(user_id, int(cursor.lastrowid or 0))
        assert row is not None
        return row

    # Contact lists

    def add_contact_list(self, user_id: int, list_name: str) -> int:
        """Create an empty contact list and return its list_id."""
        cursor = self._connection().execute(
            "INSERT INTO contact_lists (user_id, list_name, list_email_id) VALUES (?, ?, ?)",
            (user_id, list_name, self.new_list_email_id()),
        )
        return int(cursor.lastrowid or 0)

    def contact_lists(self, user_id: int) -> list[dict[str, Any]]:
        """Return the account's contact lists with their contact counts, oldest first."""
        return self._query(
            "SELECT l.list_id, l.user_id, l.list_name, l.list_email_id, "
            "(SELECT COUNT(*) FROM contacts c WHERE c.list_id = l.list_id) AS contacts_count "
            "FROM contact_lists l WHERE l.user_id = ? ORDER BY l.list_id",
            (user_id,),
        )

    def contact_list(self, list_id: int) -> dict[str, Any] | None:
        """Return a contact list of any account (the caller checks ownership), or None."""
        return self._query_one(
            "SELECT l.list_id, l.user_id, l.list_name, l.list_email_id, "
            "(SELECT COUNT(*) FROM contacts c WHERE c.list_id = l.list_id) AS contacts_count "
            "FROM contact_lists l WHERE l.list_id = ?",
            (list_id,),
        )

    def contacts(self, list_id: int) -> list[dict[str, Any]]:
        """Return the contacts of a list, oldest first."""
        return self._query("SELECT * FROM contacts WHERE list_id = ? ORDER BY contact_id", (list_id,))

    # Message history

    def add_message(self, user_id: int, channel: Channel, date: int, message_id: str, record: dict[str, Any]) -> None:
        """Record a sent message. ``record`` is stored as JSON, and ``messages`` returns it unchanged."""
        self._connection().execute(
            "INSERT INTO messages (user_id, channel, date, message_id, record) VALUES (?, ?, ?, ?, ?)",
            (user_id, channel, date, message_id, json.dumps(record, separators=(",", ":"))),
        )

    def messages(
        self, user_id: int, channel: Channel, *, date_from: int | None = None, date_to: int | None = None
    ) -> list[dict[str, Any]]:
        """Return the recorded messages of one channel in send order, within inclusive date bounds."""
        sql = "SELECT record FROM messages WHERE user_id = ? AND channel = ?"
        parameters: list[Any] = [user_id, channel]
        if date_from is not None:
            sql += " AND date >= ?"
            parameters.append(date_from)
        if date_to is not None:
            sql += " AND date <= ?"
            parameters.append(date_to)
        sql += " ORDER BY date, id"
        rows = self._connection().execute(sql, tuple(parameters)).fetchall()
        return [json.loads(row["record"]) for row in rows]

    def count_messages(self, user_id: int, channel: Channel) -> int:
        """Return how many messages of one channel the account has sent."""
        row = self._query_one(
            "SELECT COUNT(*) AS total FROM messages WHERE user_id = ? AND channel = ?", (user_id, channel)
        )
        return int(row["total"]) if row else 0
