"""HTTP Basic authentication of simulated accounts, ClickSend's test accounts and account status.

Any non-empty username and API key open a new account on first use; after that only the
same key works. ClickSend documents three test usernames that share one published API key.
What the live service returns for them is not documented, so the simulator decides:

* ``nocredit`` is active with a zero balance, so every paid message is refused with
  INSUFFICIENT_CREDIT inside HTTP 200; free test destinations still succeed.
* ``notactive`` can read GET /v3/account (``active`` is 0); every other request gets
  HTTP 403 with response_code ACCOUNT_NOT_ACTIVATED.
* ``banned`` gets HTTP 403 FORBIDDEN on every request.

With any other key these usernames get 401, like a wrong key for any known account.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .api import ApiError
from .store import Account, AccountStatus, Store, hash_api_key

__all__ = [
    "TEST_ACCOUNTS",
    "TEST_API_KEY",
    "AccountDefaults",
    "authenticate",
    "basic_credentials",
    "check_account_status",
]

logger = logging.getLogger(__name__)

# ClickSend's published API key of its test accounts.
TEST_API_KEY = "D83DED51-9E35-4D42-9BB9-0E34B7CA85AE"
# Status and starting balance (None: the configured balance) of each test account.
TEST_ACCOUNTS: dict[str, tuple[AccountStatus, Decimal | None]] = {
    "nocredit": ("active", Decimal(0)),
    "notactive": ("notactive", None),
    "banned": ("banned", None),
}
UNAUTHORIZED_MESSAGE = "Authorization failed."


@dataclass(frozen=True)
class AccountDefaults:
    """Settings of accounts opened by a first request."""

    balance: Decimal
    currency: str
    default_country: str
    global_sending: bool


def basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """Decode HTTP Basic credentials, splitting at the first colon. Return None if they are unusable."""
    lowered = {name.lower(): value for name, value in headers.items()}
    scheme, _, token = lowered.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, api_key = decoded.partition(":")
    if not separator or not username or not api_key:
        return None
    return username, api_key


def _unauthorized() -> ApiError:
    return ApiError(401, "UNAUTHORIZED", UNAUTHORIZED_MESSAGE)


def authenticate(store: Store, headers: Mapping[str, str], now: int, defaults: AccountDefaults) -> Account:
    """Return the account the request's Basic credentials open, creating it on first use.

    Raises a 401 ApiError for missing or malformed credentials and for a wrong key.
    """
    credentials = basic_credentials(headers)
    if credentials is None:
        logger.info("Rejected a request without usable Basic credentials")
        raise _unauthorized()
    username, api_key = credentials

    test_account = TEST_ACCOUNTS.get(username)
    if test_account is not None and not hmac.compare_digest(api_key.encode(), TEST_API_KEY.encode()):
        logger.info("Rejected a key other than ClickSend's test key for test account %r", username)
        raise _unauthorized()

    user = store.get_account(username)
    if user is None:
        status, balance = test_account if test_account is not None else ("active", None)
        return store.create_account(
            username,
            api_key,
            now=now,
            balance=defaults.balance if balance is None else balance,
            currency=defaults.currency,
            default_country=defaults.default_country,
            status=status,
            global_sending=defaults.global_sending,
        )
    if not hmac.compare_digest(user.api_key_sha256, hash_api_key(api_key)):
        logger.info("Rejected a wrong API key for account %r", username)
        raise _unauthorized()
    return user


def check_account_status(account: Account, method: str, path: str) -> None:
    """Raise the 403 ApiError that a banned or not activated account gets for this request."""
    if account.status == "banned":
        raise ApiError(403, "FORBIDDEN", "This account is banned. Contact ClickSend support.")
    if account.status == "notactive" and not (method == "GET" and path == "/v3/account"):
        raise ApiError(
            403,
            "ACCOUNT_NOT_ACTIVATED",
            "This account is not activated. Activate it in the ClickSend dashboard first.",
        )
