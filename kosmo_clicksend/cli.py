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
import sqlite3
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .config import SANDBOX_ACCOUNT, Config, default_config_path, default_data_dir, load_config
from .docs import NAMESPACE_PAGE, find_page, read_doc
from .errors import ClickSendError, ConfigError, UnknownFunctionError
from .host import ClickSendHost
from .lua_runtime import MIB, Limits, ScriptRunner
from .specs import REGISTRY
from .tools import ClickSendService

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


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sandbox", action="store_true", help="send every call to the built-in ClickSend simulator")
    parser.add_argument(
        "--sandbox-state",
        metavar="PATH",
        help="simulator state file (default: simulator.sqlite3 in the user data directory)",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: KOSMO_CLICKSEND_CONFIG or the platform config dir)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
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
    return parser


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("kosmo_clicksend")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def _service(args: argparse.Namespace, stack: ExitStack) -> ClickSendService:
    config = load_config(args.config)
    accounts = dict(config.accounts)
    if not args.sandbox:
        if "default" not in accounts:
            where = config.source or (args.config or default_config_path())
            raise ConfigError(
                "no ClickSend account configured: set CLICKSEND_USERNAME and CLICKSEND_API_KEY, add "
                f"[accounts.default] to {where}, or add --sandbox to use the built-in simulator"
            )
        service = ClickSendService(accounts, base_url=config.base_url, time_zone=config.time_zone)
        stack.callback(service.close)
        return service
    return _sandbox_service(args, config, accounts, stack)


def _sandbox_service(args: argparse.Namespace, config: Config, accounts: dict[str, Any], stack: ExitStack) -> ClickSendService:
    from .simulator import Simulator, SimulatorTransport

    if "default" not in accounts:
        accounts["default"] = SANDBOX_ACCOUNT
    state = Path(args.sandbox_state) if args.sandbox_state else default_data_dir() / "simulator.sqlite3"
    try:
        simulator = Simulator(state)
    except (sqlite3.Error, OSError) as exc:
        raise UsageError(
            f"cannot open the simulator state {state}: {exc}; give another file with --sandbox-state or delete this one"
        ) from exc
    stack.callback(simulator.close)
    service = ClickSendService(
        accounts, time_zone=config.time_zone, transport_factory=lambda: SimulatorTransport(simulator)
    )
    stack.callback(service.close)
    return service


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
    with ExitStack() as stack:
        service = _service(args, stack)
        runner = ScriptRunner(ClickSendHost(service), Limits(time_limit=args.time_limit, memory_limit=args.memory_limit, output_limit=args.output_limit))
        result = runner.run(code, chunk_name=chunk_name)
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
        service = _service(args, stack)
        target = service.resolve_name(args.function, args.account)
        meta = {"tool": target.spec.name, "account": target.account, "operation": target.spec.operation, "sandbox": args.sandbox}
        try:
            data, error = service.call(target, arguments), None
        except ClickSendError as exc:
            data, error = None, str(exc)
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
    _configure_logging(getattr(args, "verbose", False))
    try:
        if args.command == "run":
            return _command_run(args, stdin, out, err)
        if args.command == "call":
            return _command_call(args, stdin, out, err)
        return _command_docs(args, out, err)
    except (UsageError, ConfigError, UnknownFunctionError) as exc:
        if getattr(args, "json", False):
            _print_json(_failure_envelope(args, str(exc)), out)
        else:
            err.write(f"kosmo-clicksend {args.command}: {exc}\n")
        return EXIT_USAGE

