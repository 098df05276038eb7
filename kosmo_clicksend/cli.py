"""Command-line interface: ``kosmo-clicksend run | call | docs``.

Exit codes: 0 on success, 1 when a script or a tool failed, 2 on a usage or configuration error.
This is the only module that reads the environment (through ``load_config``) and installs
logging handlers.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .config import load_config
from .docs import NAMESPACE_PAGE, find_page, read_doc
from .errors import ClickSendError, ConfigError, UnknownFunctionError
from .host import ClickSendHost
from .journal import Journal
from .lua_runtime import MIB, Limits, ScriptRunner
from .policy import WritePreview
from .session import Session, SessionOptions, journal_path, open_session
from .specs import REGISTRY
from .worker import WorkerRunner

__all__ = ["main"]

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$", re.IGNORECASE)


class UsageError(Exception):
    """A command line that cannot run as given; exit code 2."""


def parse_size(text: str) -> int:
    """Read a size such as ``32M``, ``32MiB``, ``512k`` or ``1048576`` (bytes) and return bytes."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}; use bytes or a unit, such as 32M or 64MiB")
    number, unit = float(match.group(1)), match.group(2).lower()
    factor = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[unit]
    size = int(number * factor)
    if size < 1:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}; use at least 1 byte")
    return size


def _memory_size(text: str) -> int:
    size = parse_size(text)
    if size < 256 * 1024:
        raise argparse.ArgumentTypeError(f"memory limit {text!r} is below 256 KiB; the sandbox needs at least that")
    return size


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r}; use a number such as 30") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"time limit {text!r} is out of range; use 0 < SECONDS <= 3600")
    return value


def _function_help() -> str:
    lines = ["functions (short name, then tool name):"]
    for spec in REGISTRY:
        summary = spec.description.split(". ")[0].rstrip(".")
        lines.append(f"  {spec.short_name:<20} {spec.name:<31} {spec.operation:<5}  {summary}")
    return "\n".join(lines)


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid amount {text!r}; use a number such as 5.00") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"amount {text!r} is negative; use 0 or more")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}; use a whole number such as 100") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"count {text!r} must be at least 1")
    return value


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sandbox", action="store_true", help="send every call to the built-in ClickSend simulator")
    parser.add_argument(
        "--sandbox-state",
        metavar="PATH",
        help="simulator state file (default: simulator.sqlite3 in the user data directory)",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: KOSMO_CLICKSEND_CONFIG or the platform config dir)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument(
        "--allow-writes", action="store_true", help="let every account send without asking, overriding ask and deny in the config"
    )
    parser.add_argument("--read-only", action="store_true", help="deny every write (sends, emails, letters)")
    parser.add_argument("--dry-run", action="store_true", help="validate and price writes, send nothing")
    parser.add_argument(
        "--max-spend",
        type=_amount,
        metavar="AMOUNT",
        help="refuse a write that would take the run's spend past AMOUNT, in the account's currency (config: max_spend)",
    )
    parser.add_argument("--journal", metavar="PATH", help="journal file (default: journal.sqlite3 in the user data directory)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log one line per ClickSend request to stderr")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; help texts list the tools from the registry."""
    parser = argparse.ArgumentParser(
        prog="kosmo-clicksend",
        description="Run Lua scripts that use ClickSend through app.integrations.clicksend, in a sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"kosmo-clicksend {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run a Lua script",
        description="Run a Lua script. Text mode prints its output, then its return value as JSON.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_function_help(),
    )
    run.add_argument("file", nargs="?", help="script file, or - for standard input")
    run.add_argument("-e", "--eval", dest="code", metavar="CODE", help="run this code instead of a file")
    _add_connection_options(run)
    run.add_argument("--time-limit", type=_positive_seconds, default=30.0, metavar="SECONDS", help="wall-clock limit (default 30)")
    run.add_argument(
        "--memory-limit",
        type=_memory_size,
        default=32 * MIB,
        metavar="SIZE",
        help="Lua memory limit in bytes or with a binary unit: k, M, G mean KiB, MiB, GiB (default 32M)",
    )
    run.add_argument(
        "--output-limit", type=parse_size, default=MIB, metavar="SIZE", help="limit on captured print output, same units (default 1M)"
    )
    run.add_argument(
        "--result-limit", type=parse_size, default=MIB, metavar="SIZE", help="limit on the returned value as JSON (default 1M)"
    )
    run.add_argument(
        "--max-calls", type=_count, default=1000, metavar="N", help="limit on ClickSend tool calls per run (default 1000)"
    )
    run.add_argument(
        "--in-process",
        action="store_true",
        help="run the script in this process: about 60 ms faster, but a long C call such as a pathological "
        "string pattern cannot be stopped at the time limit",
    )

    call = commands.add_parser(
        "call",
        help="call one ClickSend tool",
        description="Call one tool with JSON arguments and print ClickSend's response.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_function_help(),
    )
    call.add_argument("function", help="short name, tool name or full name, such as sms or clicksend_send_sms")
    call.add_argument("arguments", nargs="?", help="JSON object of arguments (default {}; - reads standard input)")
    call.add_argument("--account", metavar="NAME", help="account alias (default: default)")
    _add_connection_options(call)

    docs = commands.add_parser("docs", help="print a page of the Lua reference", description="Print lua_read_doc(PAGE).")
    docs.add_argument("page", nargs="?", default=NAMESPACE_PAGE, help=f"page name (default {NAMESPACE_PAGE})")
    docs.add_argument("--config", metavar="PATH", help="config file whose accounts get pages")

    journal = commands.add_parser(
        "journal", help="list recent writes", description="List the newest journal entries: every write and its outcome."
    )
    journal.add_argument("--sandbox", action="store_true", help="read the sandbox's journal")
    journal.add_argument("--journal", metavar="PATH", help="journal file (default: journal.sqlite3 in the user data directory)")
    journal.add_argument("--limit", type=_count, default=20, metavar="N", help="entries to show (default 20)")
    journal.add_argument("--json", action="store_true", help="print a JSON list")

    _add_simulator_parser(commands)
    return parser


def _add_simulator_parser(commands: Any) -> None:
    simulator = commands.add_parser(
        "simulator",
        help="serve, reset or inspect the built-in ClickSend simulator",
        description="Serve the built-in ClickSend simulator over HTTP, reset its state or show an account's state.",
    )
    actions = simulator.add_subparsers(dest="simulator_command", metavar="ACTION")
    state_help = "simulator state file (default: simulator.sqlite3 in the user data directory, as run --sandbox)"

    serve = actions.add_parser(
        "serve",
        help="serve the simulator over HTTP until Ctrl-C",
        description="Serve the simulator over HTTP on a loopback address and print its URL; Ctrl-C stops it.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default 0: a free port, printed at start)")
    serve.add_argument("--state", metavar="FILE", help=state_help)
    serve.add_argument("--scenario", metavar="FILE", help="TOML or JSON file of fault rules and a rate limit")
    serve.add_argument("--rate-limit", metavar="REQUESTS/SECONDS", help="request budget per account, such as 20/60")
    serve.add_argument("--seed", type=int, default=0, help="seed of the message ids (default 0)")
    serve.add_argument("--balance", default="20.00", help="starting balance of new accounts (default 20.00)")
    serve.add_argument("--currency", default="AUD", help="currency of new accounts (default AUD)")
    serve.add_argument("--country", default="AU", help="default country of new accounts, ISO 3166 alpha-2 (default AU)")
    serve.add_argument(
        "--no-global-sending",
        action="store_true",
        help="new accounts may send only to their default country (others get COUNTRY_NOT_ENABLED)",
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log one line per request to stderr")

    reset = actions.add_parser(
        "reset",
        help="delete every simulated account and message",
        description="Delete every simulated account, message and address in the state file.",
    )
    reset.add_argument("--state", metavar="FILE", help=state_help)

    state = actions.add_parser(
        "state",
        help="show accounts' balance and message counts",
        description="Show the balance, settings and message counts of simulated accounts.",
    )
    state.add_argument("username", nargs="?", help="show only this account")
    state.add_argument("--state", metavar="FILE", help=state_help)
    state.add_argument("--json", action="store_true", help="print JSON instead of text")


def _configure_logging(verbose: bool, err: TextIO) -> None:
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("kosmo_clicksend")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def _session_options(args: argparse.Namespace) -> SessionOptions:
    return SessionOptions(
        config_path=args.config,
        sandbox=args.sandbox,
        sandbox_state=args.sandbox_state,
        dry_run=args.dry_run,
        max_spend=args.max_spend,
        allow_writes=args.allow_writes,
        read_only=args.read_only,
        journal=args.journal,
    )


def _terminal_confirm(stdin: TextIO, err: TextIO) -> Callable[[WritePreview], bool] | None:
    """Return a function that prompts on the terminal before a write, or None when stdin is not a terminal."""
    if not stdin.isatty():
        return None

    def confirm(preview: WritePreview) -> bool:
        err.write(f"About to send: {preview.describe()}\nSend it? [y/N] ")
        err.flush()
        answer = stdin.readline().strip().lower()
        return answer in ("y", "yes")

    return confirm


def _open(args: argparse.Namespace, stack: ExitStack, stdin: TextIO, err: TextIO) -> Session:
    session = open_session(_session_options(args), stack, confirm=_terminal_confirm(stdin, err))
    for note in session.guard.reconcile():
        err.write(f"kosmo-clicksend: {note}\n")
    return session


def _read_code(args: argparse.Namespace, stdin: TextIO) -> tuple[str, str]:
    if args.code is not None and args.file is not None:
        raise UsageError("give a script file or -e CODE, not both")
    if args.code is not None:
        return args.code, "eval"
    if args.file is None or args.file == "-":
        if args.file is None and stdin.isatty():
            raise UsageError("no script given; pass a file, - for standard input, or -e CODE")
        code = stdin.read()
        if not code.strip():
            raise UsageError("no script given: standard input was empty; pass a file, pipe a script, or use -e CODE")
        return code, "stdin"
    path = Path(args.file)
    try:
        return path.read_text(encoding="utf-8"), path.name
    except OSError as exc:
        raise UsageError(f"cannot read script {args.file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read script {args.file}: it is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _print_json(data: Any, out: TextIO, *, sort_keys: bool = False) -> None:
    out.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=sort_keys) + "\n")


def _command_run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    code, chunk_name = _read_code(args, stdin)
    limits = Limits(
        time_limit=args.time_limit,
        memory_limit=args.memory_limit,
        output_limit=args.output_limit,
        result_limit=args.result_limit,
        max_calls=args.max_calls,
    )
    with ExitStack() as stack:
        session = _open(args, stack, stdin, err)
        host = ClickSendHost(session.service, session.guard)
        runner = ScriptRunner(host, limits) if args.in_process else WorkerRunner(host, limits)
        result = runner.run(code, chunk_name=chunk_name)
        spend = {"total_spend": session.guard.spent, "currency": session.guard.currency, "dry_run": args.dry_run}
    if args.json:
        _print_json(
            {
                "success": result.success,
                "output": result.output,
                "error": result.error,
                "result": result.result,
                "execution_time_ms": result.execution_time_ms,
                "memory_usage": result.memory_usage,
                "integration_calls": [asdict(call) for call in result.integration_calls],
                **spend,
            },
            out,
        )
    else:
        if result.output:
            out.write(result.output + "\n")
        if result.result is not None:
            # Lua tables have no key order, so sorting keeps the output stable.
            _print_json(result.result, out, sort_keys=True)
        if result.error:
            err.write(f"error: {result.error}\n")
    return EXIT_OK if result.success else EXIT_FAILURE


def _command_call(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    raw = args.arguments
    if raw == "-":
        raw = stdin.read()
    try:
        arguments = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise UsageError(f"arguments are not valid JSON ({exc.msg} at column {exc.colno}); pass an object such as '{{\"limit\": 15}}'") from None
    if not isinstance(arguments, dict):
        raise UsageError("arguments must be a JSON object such as '{\"limit\": 15}'")
    started = time.monotonic()
    with ExitStack() as stack:
        session = _open(args, stack, stdin, err)
        target = session.service.resolve_name(args.function, args.account)
        try:
            data, error = session.guard.call(target, arguments), None
        except ClickSendError as exc:
            data, error = None, str(exc)
        meta = {
            "tool": target.spec.name,
            "account": target.account,
            "operation": target.spec.operation,
            "sandbox": args.sandbox,
            "dry_run": args.dry_run,
            "total_spend": session.guard.spent,
            "currency": session.guard.currency,
        }
    duration_ms = round((time.monotonic() - started) * 1000, 3)
    if args.json:
        _print_json(
            {"function": target.spec.name, "success": error is None, "data": data, "error": error, "meta": meta, "duration_ms": duration_ms},
            out,
        )
    elif error is None:
        _print_json(data, out)
    else:
        err.write(f"error: {error}\n")
    return EXIT_OK if error is None else EXIT_FAILURE


def _first_few(items: list[str], shown: int = 3) -> str:
    text = ", ".join(items[:shown])
    return text + (f" and {len(items) - shown} more" if len(items) > shown else "")


def _command_journal(args: argparse.Namespace, out: TextIO) -> int:
    path = journal_path(SessionOptions(sandbox=args.sandbox, journal=args.journal))
    if not path.exists():
        entries: list[dict[str, Any]] = []
    else:
        with Journal(path) as journal:
            entries = [entry.to_dict() for entry in journal.recent(args.limit)]
    if args.json:
        _print_json(entries, out)
        return EXIT_OK
    if not entries:
        out.write(f"No journal entries in {path}.\n")
        return EXIT_OK
    for entry in entries:
        when = datetime.fromtimestamp(entry["started"], tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        cost = "" if entry["cost"] is None else f" cost {entry['cost']:.4f} {entry['currency'] or ''}".rstrip()
        ids = f" ids {_first_few(entry['message_ids'])}" if entry["message_ids"] else ""
        out.write(
            f"#{entry['id']} {when} {entry['tool']} account {entry['account']}: {entry['outcome']}, "
            f"{entry['message_count']} to {_first_few(entry['recipients'])}{cost}{ids}\n"
        )
        if entry["error"]:
            out.write(f"    {entry['error']}\n")
    return EXIT_OK


def _command_docs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = load_config(args.config)
    name = find_page(args.page, config.aliases)
    page = read_doc(args.page, config.aliases)
    if name is None:
        err.write(page)
        return EXIT_FAILURE
    out.write(page if page.endswith("\n") else page + "\n")
    return EXIT_OK


def _failure_envelope(args: argparse.Namespace, message: str) -> dict[str, Any]:
    """Return the --json object of a run or call that could not start."""
    if args.command == "call":
        return {"function": args.function, "success": False, "data": None, "error": message, "meta": None, "duration_ms": 0}
    return {
        "success": False,
        "output": "",
        "error": message,
        "result": None,
        "execution_time_ms": 0,
        "memory_usage": 0,
        "integration_calls": [],
    }


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the CLI and return its exit code."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    _configure_logging(getattr(args, "verbose", False), err)
    try:
        if args.command == "run":
            return _command_run(args, stdin, out, err)
        if args.command == "call":
            return _command_call(args, stdin, out, err)
        if args.command == "simulator":
            from .simulator.commands import run_simulator_command

            return run_simulator_command(args, out, err)
        if args.command == "journal":
            return _command_journal(args, out)
        return _command_docs(args, out, err)
    except (UsageError, ConfigError, UnknownFunctionError) as exc:
        if getattr(args, "json", False):
            _print_json(_failure_envelope(args, str(exc)), out)
        else:
            err.write(f"kosmo-clicksend {args.command}: {exc}\n")
        return EXIT_USAGE

