"""The ``kosmo-clicksend simulator`` commands: serve, reset and state.

The CLI module parses the arguments and calls ``run_simulator_command``. Every command uses
the same state file as ``run --sandbox`` unless ``--state`` names another one.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ..config import default_data_dir
from .core import Simulator
from .faults import RateLimitSettings, ScenarioError, load_scenario
from .server import SimulatorServer

if TYPE_CHECKING:
    import argparse

__all__ = ["default_state_path", "parse_rate_limit", "run_simulator_command"]

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
RATE_LIMIT_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")


def default_state_path() -> Path:
    """Return the simulator state file that ``run --sandbox`` uses too."""
    return default_data_dir() / "simulator.sqlite3"


def parse_rate_limit(text: str) -> RateLimitSettings:
    """Read a request budget written ``REQUESTS/SECONDS``, such as ``20/60``; raise ValueError otherwise."""
    match = RATE_LIMIT_PATTERN.match(text)
    if match is None:
        raise ValueError(f"invalid rate limit {text!r}; write REQUESTS/SECONDS, such as 20/60")
    return RateLimitSettings(int(match.group(1)), float(match.group(2)))


def _state_path(args: argparse.Namespace) -> Path:
    return Path(args.state) if args.state else default_state_path()


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        rate_limit = parse_rate_limit(args.rate_limit) if args.rate_limit else None
        scenario = load_scenario(args.scenario) if args.scenario else None
        simulator = Simulator(
            _state_path(args),
            seed=args.seed,
            starting_balance=args.balance,
            currency=args.currency,
            default_country=args.country,
            global_sending=not args.no_global_sending,
            rate_limit=rate_limit,
        )
    except ValueError as error:
        err.write(f"kosmo-clicksend simulator serve: {error}\n")
        return EXIT_USAGE

    try:
        server = SimulatorServer(simulator, host=args.host, port=args.port)
    except OSError as error:
        simulator.close()
        err.write(f"kosmo-clicksend simulator serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}\n")
        return EXIT_FAILURE
    if scenario is not None:
        simulator.apply_scenario(scenario)
    if args.host not in LOOPBACK_HOSTS:
        err.write(
            f"warning: listening on {args.host}, not a loopback address; anyone who can reach it can use "
            "the simulator and its control API\n"
        )

    out.write(f"ClickSend simulator listening on {server.url} (base URL {server.url}/v3)\n")
    out.write(f"State: {_state_path(args)}. Press Ctrl-C to stop.\n")
    out.flush()
    previous_handler = _stop_on_sigterm()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        simulator.close()
        _restore_sigterm(previous_handler)
    out.write("Simulator stopped.\n")
    out.flush()
    return EXIT_OK


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    # SIGTERM stops the server as cleanly as Ctrl-C. Signal handlers exist only on the main thread.
    if threading.current_thread() is not threading.main_thread() or sys.platform == "win32":
        return None
    return signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _reset(args: argparse.Namespace, out: TextIO) -> int:
    path = _state_path(args)
    if not path.exists():
        out.write(f"No simulator state at {path}; nothing to reset.\n")
        return EXIT_OK
    with Simulator(path) as simulator:
        simulator.reset()
    out.write(f"Reset the simulator state in {path}: every account, message and address is gone.\n")
    return EXIT_OK


def _format_state(state: dict[str, Any]) -> str:
    counts = ", ".join(f"{state[f'{channel}_count']} {channel}" for channel in ("sms", "voice", "email", "letter"))
    summary = (
        f"{state['username']}: balance {state['balance']} {state['currency']}, status {state['status']}, "
        f"global sending {'on' if state['global_sending'] else 'off'}, SMS part limit {state['sms_part_limit']}"
    )
    lines = [summary, f"  messages: {counts}"]
    for address, token in state["email_verification_tokens"].items():
        lines.append(f"  verification token for {address}: {token}")
    return "\n".join(lines)


def _state(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = _state_path(args)
    if not path.exists():
        err.write(f"kosmo-clicksend simulator state: no simulator state at {path}; send a request first\n")
        return EXIT_FAILURE
    with Simulator(path) as simulator:
        try:
            states = [simulator.account_state(args.username)] if args.username else simulator.account_states()
        except KeyError as error:
            err.write(f"kosmo-clicksend simulator state: {error.args[0]}\n")
            return EXIT_FAILURE
    if args.json:
        out.write(json.dumps(states if not args.username else states[0], indent=2) + "\n")
    elif not states:
        out.write(f"No accounts in {path}.\n")
    else:
        out.write("\n".join(_format_state(state) for state in states) + "\n")
    return EXIT_OK


def run_simulator_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``simulator serve``, ``reset`` or ``state`` and return the exit code."""
    try:
        if args.simulator_command == "serve":
            return _serve(args, out, err)
        if args.simulator_command == "reset":
            return _reset(args, out)
        if args.simulator_command == "state":
            return _state(args, out, err)
    except ScenarioError as error:
        err.write(f"kosmo-clicksend simulator: {error}\n")
        return EXIT_USAGE
    err.write("kosmo-clicksend simulator: choose a command: serve, reset or state\n")
    return EXIT_USAGE
