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

from .schema import (
    ACCOUNT_COLUMNS_ADDED,
    LIST_EMAIL_ID_ALPHABET,
    RESET_TABLES,
    SCHEMA,
    SEED_LISTS,
    SEED_RETURN_ADDRESS,
    SEED_UNVERIFIED_EMAIL,
    SEED_VERIFIED_EMAIL,
)

__all__ = [
    "ACCOUNT_STATUSES",
    "DEFAULT_SMS_PART_LIMIT",
    "Account",
    "AccountStatus",
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
AccountStatus = Literal["active", "notactive", "banned"]
ACCOUNT_STATUSES = ("active", "notactive", "banned")

SCHEMA_VERSION = "2"
DEFAULT_SMS_PART_LIMIT = 6
MICROS = Decimal(1_000_000)

# Syntactic plausibility only: one "@", no spaces, and a dot in the domain.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
    status: str = "active"
    global_sending: int = 1
    sms_part_limit: int = DEFAULT_SMS_PART_LIMIT

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
            self._add_missing_columns()
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (SCHEMA_VERSION,),
            )
        except sqlite3.Error:
            self._conn.close()
            self._conn = None
            raise
        logger.debug("Opened simulator state at %s", target)

    def _add_missing_columns(self) -> None:
        conn = self._connection()
        present = {row["name"] for row in conn.execute("PRAGMA table_info(accounts)").fetchall()}
        for name, definition in ACCOUNT_COLUMNS_ADDED.items():
            if name not in present:
                conn.execute(f"ALTER TABLE accounts ADD COLUMN {name} {definition}")

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

    def accounts(self) -> list[Account]:
        """Return every account, oldest first."""
        return [Account(**row) for row in self._query("SELECT * FROM accounts ORDER BY user_id")]

    def create_account(
        self,
        username: str,
        api_key: str,
        *,
        now: int,
        balance: Decimal,
        currency: str,
        default_country: str,
        status: AccountStatus = "active",
        global_sending: bool = True,
    ) -> Account:
        """Create an account and seed its senders, return address and contact lists."""
        conn = self._connection()
        cursor = conn.execute(
            "INSERT INTO accounts (username, api_key_sha256, balance_micros, currency, default_country, date_sign_up, "
            "status, global_sending) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                username,
                hash_api_key(api_key),
                decimal_to_micros(balance),
                currency,
                default_country,
                now,
                status,
                int(global_sending),
            ),
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

    def update_account(
        self,
        user_id: int,
        *,
        balance: Decimal | None = None,
        status: AccountStatus | None = None,
        global_sending: bool | None = None,
        sms_part_limit: int | None = None,
    ) -> Account:
        """Change the given settings of an account and return it; None leaves a setting as it is."""
        changes: dict[str, Any] = {}
        if balance is not None:
            changes["balance_micros"] = decimal_to_micros(balance)
        if status is not None:
            changes["status"] = status
        if global_sending is not None:
            changes["global_sending"] = int(global_sending)
        if sms_part_limit is not None:
            changes["sms_part_limit"] = sms_part_limit
        for column, value in changes.items():
            # Column names come from the fixed set above, never from the caller.
            self._connection().execute(f"UPDATE accounts SET {column} = ? WHERE user_id = ?", (value, user_id))
        return self.get_account_by_id(user_id)

    def reset(self) -> None:
        """Delete every account, message and address, and restart ids and the message id sequence."""
        conn = self._connection()
        for table in RESET_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM sqlite_sequence")
        conn.execute("DELETE FROM meta WHERE key = 'ids_drawn'")
        self._rng = random.Random(self._seed)
        self._rng_position = 0
        logger.info("Reset the simulator state")

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

    def set_verification_token(self, email_address_id: int) -> str:
        """Create (or replace) the verification token of a sender address and return it."""
        token = f"{self._draw_bits():032X}"[:12]
        self._connection().execute(
            "INSERT INTO email_verifications (email_address_id, token) VALUES (?, ?) "
            "ON CONFLICT(email_address_id) DO UPDATE SET token = excluded.token",
            (email_address_id, token),
        )
        return token

    def verification_token(self, email_address_id: int) -> str | None:
        """Return the pending verification token of a sender address, or None."""
        row = self._query_one("SELECT token FROM email_verifications WHERE email_address_id = ?", (email_address_id,))
        return str(row["token"]) if row else None

    def verify_email_address(self, email_address_id: int) -> None:
        """Mark a sender address verified and drop its token."""
        conn = self._connection()
        conn.execute("UPDATE email_addresses SET verified = 1 WHERE email_address_id = ?", (email_address_id,))
        conn.execute("DELETE FROM email_verifications WHERE email_address_id = ?", (email_address_id,))

    def pending_verifications(self, user_id: int) -> list[dict[str, Any]]:
        """Return the account's unverified sender addresses that have a token, as rows with the token."""
        return self._query(
            "SELECT e.email_address_id, e.email_address, v.token FROM email_addresses e "
            "JOIN email_verifications v ON v.email_address_id = e.email_address_id "
            "WHERE e.user_id = ? ORDER BY e.email_address_id",
            (user_id,),
        )

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
