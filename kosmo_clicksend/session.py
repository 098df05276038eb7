"""Build what one CLI run needs from the config and the flags: service, guard and journal.

Kept apart from the CLI so that the argument parsing and the wiring can each be read alone. The
caller owns ``stack``: everything opened here (simulator, HTTP clients, journal) closes with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .config import SANDBOX_ACCOUNT, Config, default_config_path, default_data_dir, load_config
from .errors import ConfigError
from .journal import Journal
from .policy import GuardedService, WritePreview, resolve_permissions
from .tools import ClickSendService

__all__ = ["Session", "SessionOptions", "journal_path", "open_session"]


@dataclass(frozen=True)
class SessionOptions:
    """The flags that shape a run; None means "use the config or the default"."""

    config_path: str | None = None
    sandbox: bool = False
    sandbox_state: str | None = None
    dry_run: bool = False
    max_spend: float | None = None
    allow_writes: bool = False
    read_only: bool = False
    journal: str | None = None


@dataclass
class Session:
    """An open run: the config, the service and the guard every tool call goes through."""

    config: Config
    service: ClickSendService
    guard: GuardedService


def journal_path(options: SessionOptions) -> Path:
    """Return the journal file: --journal, else one in the data directory (a separate one for the sandbox)."""
    if options.journal:
        return Path(options.journal)
    return default_data_dir() / ("sandbox-journal.sqlite3" if options.sandbox else "journal.sqlite3")


def _sandbox_service(options: SessionOptions, config: Config, stack: ExitStack) -> ClickSendService:
    from .simulator import Simulator, SimulatorTransport

    accounts = dict(config.accounts)
    if "default" not in accounts:
        accounts["default"] = SANDBOX_ACCOUNT
    state = Path(options.sandbox_state) if options.sandbox_state else default_data_dir() / "simulator.sqlite3"
    try:
        simulator = Simulator(state)
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(
            f"cannot open the simulator state {state}: {exc}; give another file with --sandbox-state or delete this one"
        ) from exc
    stack.callback(simulator.close)
    service = ClickSendService(accounts, time_zone=config.time_zone, transport_factory=lambda: SimulatorTransport(simulator))
    stack.callback(service.close)
    return service


def open_session(
    options: SessionOptions, stack: ExitStack, *, confirm: Callable[[WritePreview], bool] | None = None
) -> Session:
    """Read the config, build the service (real or sandbox), open the journal and the guard.

    Raises ConfigError when the config is unusable or no account is configured without --sandbox.
    """
    if options.allow_writes and options.read_only:
        raise ConfigError("--allow-writes and --read-only contradict each other; give one of them")
    config = load_config(options.config_path)
    if options.sandbox:
        service = _sandbox_service(options, config, stack)
    else:
        if "default" not in config.accounts:
            where = config.source or options.config_path or default_config_path()
            raise ConfigError(
                "no ClickSend account configured: set CLICKSEND_USERNAME and CLICKSEND_API_KEY, add "
                f"[accounts.default] to {where}, or add --sandbox to use the built-in simulator"
            )
        service = ClickSendService(config.accounts, base_url=config.base_url, time_zone=config.time_zone)
        stack.callback(service.close)

    accounts = {alias: config.accounts.get(alias) for alias in service.aliases}
    permissions = resolve_permissions(
        accounts, config.permissions, sandbox=options.sandbox, allow_writes=options.allow_writes, read_only=options.read_only
    )
    try:
        journal = Journal(journal_path(options))
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"cannot open the journal {journal_path(options)}: {exc}; give another file with --journal") from exc
    stack.callback(journal.close)
    guard = GuardedService(
        service,
        permissions=permissions,
        dry_run=options.dry_run,
        max_spend=options.max_spend if options.max_spend is not None else config.max_spend,
        confirm=confirm,
        journal=journal,
    )
    return Session(config=config, service=service, guard=guard)
