"""Accounts and settings, read from a TOML file and the environment.

The file (default ``<user config dir>/kosmo-clicksend/config.toml``; ``KOSMO_CLICKSEND_CONFIG`` or
``--config`` name another) looks like this::

    time_zone = "Australia/Sydney"    # for dates without an offset; UTC when left out
    default_country = "AU"            # for local phone numbers; else the account's own default

    [accounts.default]
    username = "me@example.com"
    api_key = "..."                   # or api_key_env = "NAME_OF_AN_ENVIRONMENT_VARIABLE"

    [accounts.work]
    username = "work-api-user"
    api_key_env = "WORK_CLICKSEND_KEY"
    default_country = "NZ"            # overrides the top-level default_country for this account

``CLICKSEND_USERNAME`` and ``CLICKSEND_API_KEY`` define the default account and take precedence over
``[accounts.default]``, so a one-off run can use other credentials without editing the file.
Only the CLI calls ``load_config``; the library takes a ``Config`` and never reads the environment.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .dates import resolve_time_zone
from .errors import ConfigError
from .phones import is_known_region
from .specs import REGISTRY

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "SANDBOX_ACCOUNT",
    "Account",
    "Config",
    "Permissions",
    "default_config_path",
    "default_data_dir",
    "load_config",
]

logger = logging.getLogger(__name__)

APP_NAME = "kosmo-clicksend"
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_LEVEL_KEYS = frozenset({"accounts", "base_url", "default_country", "max_spend", "permissions", "time_zone"})
# Lua names the account namespace; these would hide a function or the namespace itself.
_RESERVED_ALIASES = {"integrations", "clicksend"}


PERMISSION_VALUES = ("allow", "ask", "deny")


@dataclass(frozen=True)
class Permissions:
    """Permission of an account (allow, ask or deny) for reads and for writes; None leaves it unset."""

    read: str | None = None
    write: str | None = None
    # Where a deny came from, for the error message: "--read-only" or "the config file".
    denied_by: str | None = None


@dataclass(frozen=True)
class Account:
    """Credentials of one ClickSend account. The API key never shows in ``repr``.

    ``default_country`` (ISO 3166 alpha-2) reads local phone numbers; None means the account's
    ``default_country_sms`` from GET /account.
    """

    alias: str
    username: str
    api_key: str = field(repr=False)
    default_country: str | None = None
    permissions: Permissions = field(default_factory=Permissions)


@dataclass(frozen=True)
class Config:
    """Everything the CLI read: accounts by alias, the time zone and the API base URL."""

    accounts: Mapping[str, Account]
    time_zone: str = "UTC"
    base_url: str | None = None
    source: Path | None = None
    permissions: Permissions = field(default_factory=Permissions)
    max_spend: float | None = None

    @property
    def aliases(self) -> list[str]:
        """Return the account aliases, default first."""
        return sorted(self.accounts, key=lambda alias: (alias != "default", alias))


# With --sandbox and no account configured, calls go to the simulator under this name.
SANDBOX_ACCOUNT = Account(alias="default", username="sandbox", api_key="sandbox-key")


def default_config_path() -> Path:
    """Return the platform's config file path for kosmo-clicksend."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    """Return the platform's data directory for kosmo-clicksend (simulator state and similar)."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def load_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read accounts from the config file and the environment.

    ``path`` None means ``KOSMO_CLICKSEND_CONFIG`` or the platform default; a missing default file is
    fine (no accounts), a missing file named explicitly is a ConfigError.
    """
    env = os.environ if environ is None else environ
    explicit = path is not None or bool(env.get("KOSMO_CLICKSEND_CONFIG"))
    file_path = Path(path) if path is not None else Path(env.get("KOSMO_CLICKSEND_CONFIG") or default_config_path())

    raw: dict[str, Any] = {}
    source: Path | None = None
    if file_path.exists():
        try:
            raw = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config {file_path}: cannot be read: {exc}") from exc
        source = file_path
    elif explicit:
        raise ConfigError(f"config {file_path}: file not found; create it or drop --config / KOSMO_CLICKSEND_CONFIG")

    unknown = sorted(set(raw) - _TOP_LEVEL_KEYS)
    if unknown:
        close = {key: difflib.get_close_matches(key, sorted(_TOP_LEVEL_KEYS), n=1) for key in unknown}
        hints = ", ".join(f"{key} (did you mean {close[key][0]}?)" if close[key] else key for key in unknown)
        raise ConfigError(
            f"config {file_path}: unknown keys {hints}; the file takes {', '.join(sorted(_TOP_LEVEL_KEYS))}"
        )
    default_country = _read_country(f"config {file_path}", raw.get("default_country"))
    permissions = _read_permissions(f"config {file_path}: [permissions]", raw.get("permissions"))
    max_spend = raw.get("max_spend")
    if max_spend is not None and (isinstance(max_spend, bool) or not isinstance(max_spend, (int, float)) or max_spend < 0):
        raise ConfigError(f"config {file_path}: max_spend {max_spend!r} must be a number of at least 0, such as 5.00")
    _warn_if_readable(file_path, raw)
    accounts: dict[str, Account] = {}
    table = raw.get("accounts", {})
    if not isinstance(table, dict):
        raise ConfigError(f"config {file_path}: 'accounts' must be a table of [accounts.<alias>] sections")
    for alias, entry in table.items():
        accounts[alias] = _read_account(file_path, alias, entry, env, default_country)

    env_user = env.get("CLICKSEND_USERNAME")
    env_key = env.get("CLICKSEND_API_KEY")
    if env_user or env_key:
        if not (env_user and env_key):
            missing = "CLICKSEND_API_KEY" if env_user else "CLICKSEND_USERNAME"
            raise ConfigError(f"environment: CLICKSEND_USERNAME and CLICKSEND_API_KEY go together; set {missing} too")
        accounts["default"] = Account("default", env_user, env_key, default_country)

    time_zone = raw.get("time_zone", "UTC")
    if not isinstance(time_zone, str):
        raise ConfigError(f"config {file_path}: time_zone must be a string such as 'Australia/Sydney'")
    try:
        resolve_time_zone(time_zone)
    except ValueError as exc:
        raise ConfigError(f"config {file_path}: time_zone: {exc}") from exc

    base_url = raw.get("base_url")
    if base_url is not None and (not isinstance(base_url, str) or not base_url.startswith(("https://", "http://"))):
        raise ConfigError(f"config {file_path}: base_url must be an http(s) URL such as https://rest.clicksend.com/v3")
    return Config(
        accounts=accounts,
        time_zone=time_zone,
        base_url=base_url,
        source=source,
        permissions=permissions,
        max_spend=float(max_spend) if max_spend is not None else None,
    )


def _read_permissions(where: str, value: Any) -> Permissions:
    if value is None:
        return Permissions()
    if not isinstance(value, dict) or set(value) - {"read", "write"}:
        raise ConfigError(f"{where}: use read and write keys, such as write = \"ask\"")
    for key, setting in value.items():
        if setting not in PERMISSION_VALUES:
            raise ConfigError(f"{where}: {key} {setting!r} must be one of allow, ask, deny")
    return Permissions(read=value.get("read"), write=value.get("write"))


def _warn_if_readable(file_path: Path, raw: Mapping[str, Any]) -> None:
    """Warn when a config file holding an API key can be read by other users."""
    holds_key = any(isinstance(entry, dict) and "api_key" in entry for entry in (raw.get("accounts") or {}).values())
    try:
        mode = file_path.stat().st_mode
    except OSError:
        return
    if holds_key and mode & 0o077:
        logger.warning(
            "config %s holds an API key and other users can read it (mode %o); run: chmod 600 %s",
            file_path,
            mode & 0o777,
            file_path,
        )


def _read_country(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_known_region(value):
        raise ConfigError(f"{where}: default_country {value!r} is not an ISO 3166 two-letter country such as 'AU'")
    return value.upper()


def _read_account(
    file_path: Path, alias: str, entry: Any, env: Mapping[str, str], default_country: str | None
) -> Account:
    where = f"config {file_path}: [accounts.{alias}]"
    if not _ALIAS.match(alias) or alias in _RESERVED_ALIASES or REGISTRY.get(alias) is not None:
        raise ConfigError(
            f"{where}: the alias must be a Lua name (letters, digits, _) other than integrations, clicksend "
            "and the function names, because Lua looks functions and accounts up in the same namespace"
        )
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table with username and api_key")
    unknown = sorted(set(entry) - {"username", "api_key", "api_key_env", "default_country", "permissions"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {', '.join(unknown)}; use username, api_key or api_key_env, default_country "
            "and permissions"
        )
    username = entry.get("username")
    if not isinstance(username, str) or not username:
        raise ConfigError(f"{where}: username is missing; set it to the ClickSend API username")
    if "api_key" in entry and "api_key_env" in entry:
        raise ConfigError(f"{where}: set api_key or api_key_env, not both")
    if "api_key_env" in entry:
        variable = entry["api_key_env"]
        api_key = env.get(variable, "") if isinstance(variable, str) else ""
        if not api_key:
            raise ConfigError(f"{where}: api_key_env names {variable!r}, which is not set in the environment")
    else:
        raw_key = entry.get("api_key")
        if raw_key == "":
            raise ConfigError(f"{where}: api_key is empty; set it to the account's API key")
        if not isinstance(raw_key, str):
            raise ConfigError(f"{where}: api_key is missing; set api_key or api_key_env")
        api_key = raw_key
    country = _read_country(where, entry["default_country"]) if "default_country" in entry else default_country
    permissions = _read_permissions(f"{where}.permissions", entry.get("permissions"))
    return Account(alias, username, api_key, country, permissions)
