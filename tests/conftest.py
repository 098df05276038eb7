"""Shared fixtures: an in-memory simulator, a service wired to it, and a script runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kosmo_clicksend.config import Account
from kosmo_clicksend.host import ClickSendHost
from kosmo_clicksend.lua_runtime import Limits, RunResult, ScriptRunner
from kosmo_clicksend.simulator import Simulator, SimulatorTransport
from kosmo_clicksend.tools import ClickSendService

from fakes import FakeClock

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACCOUNT = Account("default", "main@example.com", "KEY-0123456789")
WORK_ACCOUNT = Account("work", "work-user", "KEY-work-9876")
# ClickSend's documented test account without credit: sends to real numbers come back refused.
NO_CREDIT_ACCOUNT = Account("broke", "nocredit", "D83DED51-9E35-4D42-9BB9-0E34B7CA85AE")


class RecordingTransport(httpx.BaseTransport):
    """Pass requests to the simulator and keep each one for assertions."""

    def __init__(self, simulator: Simulator, log: list[httpx.Request]) -> None:
        self._inner = SimulatorTransport(simulator)
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self._log.append(request)
        return self._inner.handle_request(request)


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    sim = Simulator(None, seed=7)
    yield sim
    sim.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[Simulator]:
    """A simulator in memory whose clock the test moves by hand."""
    simulator = Simulator(clock=clock)
    yield simulator
    simulator.close()


@pytest.fixture
def requests_log() -> list[httpx.Request]:
    return []


@pytest.fixture
def service(simulator: Simulator, requests_log: list[httpx.Request]) -> Iterator[ClickSendService]:
    svc = ClickSendService(
        {"default": DEFAULT_ACCOUNT, "work": WORK_ACCOUNT, "broke": NO_CREDIT_ACCOUNT},
        transport_factory=lambda: RecordingTransport(simulator, requests_log),
    )
    yield svc
    svc.close()


@pytest.fixture
def run_lua(service: ClickSendService):
    """Return a function that runs Lua code against the simulator-backed service."""

    def run(code: str, *, time_limit: float = 10.0, memory_limit: int = 32 * 1024 * 1024) -> RunResult:
        runner = ScriptRunner(ClickSendHost(service), Limits(time_limit=time_limit, memory_limit=memory_limit))
        return runner.run(code)

    return run


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the user's real config, data directory and credentials."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for name in ("CLICKSEND_USERNAME", "CLICKSEND_API_KEY", "KOSMO_CLICKSEND_CONFIG"):
        monkeypatch.delenv(name, raising=False)
