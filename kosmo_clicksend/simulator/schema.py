"""SQLite schema and seed data of the simulator's state: the tables, the columns added since
the first schema version, and what every new account starts with."""

from __future__ import annotations

__all__ = [
    "ACCOUNT_COLUMNS_ADDED",
    "LIST_EMAIL_ID_ALPHABET",
    "RESET_TABLES",
    "SCHEMA",
    "SEED_LISTS",
    "SEED_RETURN_ADDRESS",
    "SEED_UNVERIFIED_EMAIL",
    "SEED_VERIFIED_EMAIL",
]

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
    date_sign_up INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    global_sending INTEGER NOT NULL DEFAULT 1,
    sms_part_limit INTEGER NOT NULL DEFAULT 6
);
CREATE TABLE IF NOT EXISTS email_addresses (
    email_address_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES accounts(user_id),
    email_address TEXT NOT NULL,
    verified INTEGER NOT NULL,
    date_added INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS email_verifications (
    email_address_id INTEGER PRIMARY KEY REFERENCES email_addresses(email_address_id),
    token TEXT NOT NULL
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

# Columns added to accounts after schema version 1, with their definitions, so that a
# state file written by an older version gains them when it is opened.
ACCOUNT_COLUMNS_ADDED = {
    "status": "TEXT NOT NULL DEFAULT 'active'",
    "global_sending": "INTEGER NOT NULL DEFAULT 1",
    "sms_part_limit": "INTEGER NOT NULL DEFAULT 6",
}
# Tables in the order reset() empties them, children before parents.
RESET_TABLES = (
    "messages",
    "contacts",
    "contact_lists",
    "return_addresses",
    "email_verifications",
    "email_addresses",
    "accounts",
)

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
