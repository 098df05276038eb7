"""Safety cases end to end: the CLI with its worker process, and a send whose response is lost."""

from __future__ import annotations

import io
import os
import time

import pytest

from kosmo_clicksend.cli import main
from kosmo_clicksend.config import Account, Permissions
from kosmo_clicksend.journal import Journal
from kosmo_clicksend.policy import GuardedService
from kosmo_clicksend.simulator import SimulatorTransport
from kosmo_clicksend.simulator.faults import FaultRule, make_fault
from kosmo_clicksend.tools import ClickSendService


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def children_of_this_process() -> list[int]:
    """Return the pids of live processes whose parent is this test process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(int(entry))
    return found


@pytest.fixture
def sandbox(tmp_path):
    return ["--sandbox", "--sandbox-state", str(tmp_path / "s.db"), "--journal", str(tmp_path / "j.db")]


def test_pathological_pattern_ends_at_deadline(sandbox):
    before = set(children_of_this_process())
    started = time.monotonic()
    code, _, err = cli("run", *sandbox, "--time-limit", "2", "-e", 'return string.find(string.rep("a", 5000), ".-.-.-.-b$")')
    elapsed = time.monotonic() - started
    assert code == 1
    assert "time limit of 2 s reached" in err
    assert elapsed < 3.5
    assert set(children_of_this_process()) <= before


@pytest.mark.parametrize(
    "code",
    [
        "while true do pcall(function() while true do end end) end",
        "while true do pcall(coroutine.wrap(function() while true do end end)) end",
    ],
)
def test_caught_timeouts_still_end(sandbox, code):
    started = time.monotonic()
    exit_code, _, err = cli("run", *sandbox, "--time-limit", "1", "-e", code)
    assert exit_code == 1
    assert "time limit of 1 s reached" in err
    assert time.monotonic() - started < 2.5


def test_memory_bomb_then_tool_calls_never_hang(sandbox):
    script = """
    local hog = {}
    pcall(function() while true do hog[#hog + 1] = string.rep("x", 4096) end end)
    for i = 1, 300 do
      hog[#hog] = nil
      pcall(app.integrations.clicksend.get_account_balance, {})
    end
    return "done"
    """
    started = time.monotonic()
    code, out, err = cli("run", *sandbox, "--time-limit", "10", "--memory-limit", "4M", "-e", script)
    assert time.monotonic() - started < 12
    assert code in (0, 1)
    assert out == '"done"\n' or "memory limit of 4 MiB reached" in err or "time limit" in err


def test_global_metatable_refused_cli_continues(sandbox):
    code, _, err = cli("run", *sandbox, "-e", 'setmetatable(_G, {__index = function() error("boom") end}) return 1')
    assert code == 1
    assert "global table cannot have a metatable" in err
    assert cli("run", *sandbox, "-e", "return 2")[1] == "2\n"


def test_lost_response_journalled_once(simulator):
    simulator.faults.add(FaultRule(make_fault("response_lost"), method="POST", path="/v3/sms/send"))
    service = ClickSendService(
        {"default": Account("default", "lost-user", "KEY-lost")}, transport_factory=lambda: SimulatorTransport(simulator)
    )
    journal = Journal(None)
    guard = GuardedService(service, permissions={"default": Permissions("allow", "allow")}, journal=journal)
    result = guard.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "once"}]})
    service.close()
    history_ids = [row["message_id"] for row in result["data"]["messages"]]
    entries = journal.recent()
    assert result["outcome"] == "found_in_history"
    assert simulator.account_state("lost-user")["sms_count"] == 1
    assert len(entries) == 1
    assert entries[0].outcome == "sent"
    assert entries[0].message_ids == history_ids


def faulty_guard(simulator, kind, **rule):
    from kosmo_clicksend.client import RetryPolicy

    simulator.faults.add(FaultRule(make_fault(kind, rule.pop("delay", None)), method="POST", path="/v3/sms/send", **rule))
    service = ClickSendService(
        {"default": Account("default", "fault-user", "KEY-fault")},
        transport_factory=lambda: SimulatorTransport(simulator),
        retry=RetryPolicy(attempts=4),
        sleep=lambda _: None,
    )
    guard = GuardedService(service, permissions={"default": Permissions("allow", "allow")}, journal=Journal(None))
    return service, guard


SEND = {"messages": [{"to": "+61411111111", "body": "exactly once"}]}


@pytest.mark.parametrize("kind", ["http_500", "http_502", "malformed_json"])
def test_send_failing_with_server_error_is_not_retried(simulator, kind):
    from kosmo_clicksend.errors import ApiError

    service, guard = faulty_guard(simulator, kind, count=None)
    with pytest.raises(ApiError):
        guard.call(service.resolve_name("sms"), SEND)
    service.close()
    # The fault responded before the account was touched, so the simulator never saw this user.
    with pytest.raises(KeyError):
        simulator.account_state("fault-user")
    assert guard.journal.recent()[0].outcome == "failed"


@pytest.mark.parametrize("kind", ["connection_reset", "read_timeout"])
def test_lost_connection_send_unknown(simulator, kind):
    from kosmo_clicksend.errors import UnknownOutcomeError

    service, guard = faulty_guard(simulator, kind, delay=0.01)
    with pytest.raises(UnknownOutcomeError):
        guard.call(service.resolve_name("sms"), SEND)
    service.close()
    assert simulator.account_state("fault-user")["sms_count"] == 0
    assert guard.journal.recent()[0].outcome == "unknown"


def test_send_after_429_sent_once():
    from kosmo_clicksend.simulator import Simulator
    from kosmo_clicksend.simulator.ratelimit import RateLimitSettings

    now = [1_800_000_000.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with Simulator(None, clock=lambda: now[0], rate_limit=RateLimitSettings(requests=1, window=10)) as simulator:
        service = ClickSendService(
            {"default": Account("default", "busy-user", "KEY-busy")},
            transport_factory=lambda: SimulatorTransport(simulator),
            sleep=sleep,
        )
        guard = GuardedService(service, permissions={"default": Permissions("allow", "allow")})
        guard.call(service.resolve_name("get_account_balance"), {})
        result = guard.call(service.resolve_name("sms"), SEND)
        service.close()
        sent = simulator.account_state("busy-user")["sms_count"]
    assert result["response_code"] == "SUCCESS"
    assert sent == 1
    assert len(waits) == 1
    assert 1 <= waits[0] <= 10
