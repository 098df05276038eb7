"""WorkerRunner: scripts in a killable worker process, compared with the in-process ScriptRunner."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from kosmo_clicksend import worker
from kosmo_clicksend.errors import ArgumentError
from kosmo_clicksend.lua_runtime import MIB, Limits, ScriptRunner
from kosmo_clicksend.worker import GRACE_SECONDS, WorkerRunner

TIME_LIMIT_2 = "time limit of 2 s reached; raise it with --time-limit"
TIME_LIMIT_1 = "time limit of 1 s reached; raise it with --time-limit"


class EchoHost:
    """A LuaHost that returns its arguments, so the worker is tested without ClickSend."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def call_tool(self, path, arguments):
        self.calls.append((path, arguments))
        return "clicksend_echo", "default", {"path": path, "arguments": arguments}

    def read_doc(self, page):
        return f"page {page}"


class RejectingHost(EchoHost):
    """Rejects SMS sends as the real host does for missing arguments; other calls echo."""

    def call_tool(self, path, arguments):
        if path.endswith(".sms"):
            self.calls.append((path, arguments))
            error = ArgumentError("clicksend_send_sms", ["messages is missing"])
            error.account = "work"
            raise error
        return super().call_tool(path, arguments)


class BrokenHost(EchoHost):
    """A host with a bug: every call raises an exception that is not a ClickSendError."""

    def call_tool(self, path, arguments):
        raise RuntimeError("disk on fire")

    def read_doc(self, page):
        raise KeyError(page)


def child_pids() -> set[int]:
    """Return the ids of the live processes whose parent is this test process."""
    me = str(os.getpid())
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The command name in brackets may contain spaces, so the fields are split after its ")".
        fields = text.rsplit(")", 1)[1].split()
        if fields[1] == me and fields[0] != "Z":
            children.add(int(stat.parent.name))
    return children


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(autouse=True)
def no_stray_workers():
    before = child_pids()
    yield
    assert child_pids() - before == set()


@pytest.fixture
def host():
    return EchoHost()


def worker_run(host, code, **limits):
    return WorkerRunner(host, Limits(**limits)).run(code)


def test_worker_stops_pathological_pattern_at_deadline(host):
    runner = WorkerRunner(host, Limits(time_limit=2))
    started = time.monotonic()
    result = runner.run('return string.find(string.rep("a", 5000), ".-.-.-.-b$")')
    elapsed = time.monotonic() - started
    assert result.error == TIME_LIMIT_2
    assert result.error_kind == "time_limit"
    assert elapsed < 3.5
    assert not process_exists(runner.pid)


def test_worker_stays_usable_after_kill(host):
    runner = WorkerRunner(host, Limits(time_limit=1))
    assert runner.run('return string.find(string.rep("a", 5000), ".-.-.-.-b$")').error_kind == "time_limit"
    assert runner.run("return 1 + 1").result == 2


@pytest.mark.parametrize(
    "code",
    [
        "while true do pcall(function() while true do end end) end",
        "while true do pcall(coroutine.wrap(function() while true do end end)) end",
        "local co = coroutine.create(function() while true do pcall(function() while true do end end) end end)"
        " coroutine.resume(co)",
    ],
)
def test_worker_time_limit_stops_loops(host, code):
    started = time.monotonic()
    result = worker_run(host, code, time_limit=1)
    elapsed = time.monotonic() - started
    assert result.error == TIME_LIMIT_1
    assert result.error_kind == "time_limit"
    assert 1.0 <= elapsed < 1.0 + GRACE_SECONDS + 0.5


def test_worker_memory_full_then_tool_calls_end(host):
    code = """
    local hog = {}
    pcall(function() while true do hog[#hog + 1] = string.rep("x", 1000) end end)
    local rejected = 0
    while #hog > 0 do
      hog[#hog] = nil
      local ok = pcall(app.integrations.clicksend.get_account_balance, {})
      if not ok then rejected = rejected + 1 end
    end
    return rejected
    """
    started = time.monotonic()
    result = worker_run(host, code, memory_limit=2 * MIB, time_limit=10)
    elapsed = time.monotonic() - started
    assert result.error_kind in (None, "memory_limit")
    assert elapsed < 10 + GRACE_SECONDS + 1
    assert worker_run(host, "return 'still here'").result == "still here"


def test_worker_address_space_limit_is_memory_error(host):
    # 5000 references to one 200 KB string are 1 GB of Python strings once the result is converted,
    # far past the address-space limit of a worker with 1 MiB of Lua memory.
    code = "local s = string.rep('x', 200000) local t = {} for i = 1, 5000 do t[i] = s end return t"
    result = worker_run(host, code, memory_limit=1 * MIB, result_limit=2048 * MIB, time_limit=10)
    assert result.error == "memory limit of 1 MiB reached; raise it with --memory-limit"
    assert result.error_kind == "memory_limit"


def test_worker_small_address_space_memory_error(host, monkeypatch):
    # An address space smaller than the Lua limit makes the OS refuse Lua's allocations first.
    monkeypatch.setattr(worker, "_address_space_limit", lambda memory_limit: 64 * MIB)
    code = "local t = {} for i = 1, 1e9 do t[i] = tostring(i) .. 'xxxxxxxxxxxx' end"
    result = worker_run(host, code, memory_limit=512 * MIB, time_limit=10)
    assert result.error == "memory limit of 512 MiB reached; raise it with --memory-limit"


def test_worker_refuses_metatable_on_globals(host):
    runner = WorkerRunner(host, Limits())
    result = runner.run('setmetatable(_G, {__index = function() error("boom") end}) return 1')
    assert result.success is False
    assert "global table cannot have a metatable" in result.error
    assert runner.run("return 1 + 1").result == 2


def test_worker_tool_arguments_arrive_as_python_data(host):
    code = """
    app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "hi"}, {to = "+61422222222"}},
                                   flag = true, rate = 2.5, empty = {}}
    """
    worker_run(host, code)
    expected = {
        "messages": [{"to": "+61411111111", "body": "hi"}, {"to": "+61422222222"}],
        "flag": True,
        "rate": 2.5,
        "empty": {},
    }
    assert host.calls == [("app.integrations.clicksend.sms", expected)]


def test_worker_tool_result_is_lua_table(host):
    code = """
    local r = app.integrations.clicksend.sms{messages = {{to = "a"}, {to = "b"}}}
    return type(r), type(r.arguments.messages), #r.arguments.messages, r.arguments.messages[2].to, r.path
    """
    result = worker_run(host, code)
    assert result.result == ["table", "table", 2, "b", "app.integrations.clicksend.sms"]


def test_worker_host_error_names_tool():
    result = worker_run(RejectingHost(), "app.integrations.clicksend.sms{}")
    assert result.error == "clicksend_send_sms: messages is missing"
    assert result.error_kind == "runtime"


def test_worker_pcall_catches_host_error():
    code = "local ok, err = pcall(app.integrations.clicksend.sms, {}) return ok, err"
    result = worker_run(RejectingHost(), code)
    assert result.result == [False, "clicksend_send_sms: messages is missing"]


def test_worker_call_log_keeps_function_and_account():
    code = """
    app.integrations.clicksend.get_account_balance{}
    pcall(app.integrations.clicksend.sms, {})
    """
    result = worker_run(RejectingHost(), code)
    logged = [(call.function, call.account, call.status) for call in result.integration_calls]
    assert logged == [("clicksend_echo", "default", "ok"), ("clicksend_send_sms", "work", "error")]
    assert result.integration_calls[1].error == "clicksend_send_sms: messages is missing"


def test_worker_read_doc(host):
    assert worker_run(host, 'return lua_read_doc("integrations.clicksend")').result == "page integrations.clicksend"


@pytest.mark.parametrize(
    ("code", "limits"),
    [
        ('print("a", 1, true, nil)', {}),
        ('print({b = {1, 2}, a = "x"}) print("second line")', {}),
        ("return 1, 'two', nil", {}),
        ('return {a = {1, {b = 2}}, c = "x", d = {}}', {}),
        ("return", {}),
        ("return 0/0, 1/0, math.maxinteger, 2^53, -0.5", {}),
        ('return "line\\nbreak \\u{2028} \\0 nul", "caf\\u{e9}"', {}),
        ('for i = 1, 1e6 do print(string.rep("x", 100)) end', {"output_limit": 10_000}),
        ('return string.rep("x", 2000)', {"result_limit": 1000}),
        ("x = ", {}),
        ('error("plain")', {}),
        ("error({code = 1})", {}),
        ("local t = {} for i = 1, 1e9 do t[i] = i end", {"memory_limit": 4 * MIB}),
        ('return json.decode(json.encode({a = {1, 2, 3}, b = "x"}))', {}),
        ('return io.open("/etc/hostname")', {}),
        ("app.integrations.clicksend.sms{} app.integrations.clicksend.sms{}", {"max_calls": 1}),
        ("local t = {} t.t = t app.integrations.clicksend.sms(t)", {}),
        ("return app.integrations.clicksend.sms{n = 1}.arguments", {}),
        ('return lua_read_doc("")', {}),
        ('print("\\xff") return 1', {}),
        ('error("\\xff")', {}),
    ],
)
def test_worker_matches_script_runner(code, limits):
    in_process_host, worker_host = EchoHost(), EchoHost()
    expected = ScriptRunner(in_process_host, Limits(**limits)).run(code)
    actual = WorkerRunner(worker_host, Limits(**limits)).run(code)
    assert actual.success == expected.success
    assert actual.output == expected.output
    assert actual.error == expected.error
    assert actual.error_kind == expected.error_kind
    assert actual.result == expected.result
    assert [(c.function, c.account, c.status, c.error) for c in actual.integration_calls] == [
        (c.function, c.account, c.status, c.error) for c in expected.integration_calls
    ]
    assert worker_host.calls == in_process_host.calls


@pytest.mark.parametrize(
    "code",
    [
        "return pcall(app.integrations.clicksend.sms, {})",
        "return pcall(lua_read_doc, 'integrations.clicksend')",
    ],
)
def test_worker_reports_host_bug_as_in_process(code):
    expected = ScriptRunner(BrokenHost(), Limits()).run(code)
    actual = WorkerRunner(BrokenHost(), Limits()).run(code)
    assert actual.result == expected.result
    assert [(c.function, c.status, c.error) for c in actual.integration_calls] == [
        (c.function, c.status, c.error) for c in expected.integration_calls
    ]


def test_worker_never_receives_credentials(monkeypatch):
    secret = "KEY-s3cr3t-4f8a-worker-test"
    monkeypatch.setenv("CLICKSEND_API_KEY", secret)
    environments: list[bytes] = []

    class SecretHost(EchoHost):
        api_key = secret

        def call_tool(self, path, arguments):
            environments.append(Path(f"/proc/{runner.pid}/environ").read_bytes())
            return super().call_tool(path, arguments)

    written: list[tuple[str, bytes]] = []
    runner = WorkerRunner(SecretHost(), Limits(), trace=lambda direction, line: written.append((direction, line)))
    result = runner.run("return app.integrations.clicksend.get_account_balance{}.path, lua_read_doc('x')")
    to_worker = [line for direction, line in written if direction == "to_worker"]
    assert result.result == ["app.integrations.clicksend.get_account_balance", "page x"]
    assert len(to_worker) == 3
    assert all(secret.encode() not in line for line in to_worker)
    assert secret.encode() not in environments[0]


def test_worker_sets_os_limits_and_own_session(host):
    seen: dict[str, object] = {}

    class InspectingHost(EchoHost):
        def call_tool(self, path, arguments):
            pid = runner.pid
            seen["limits"] = Path(f"/proc/{pid}/limits").read_text()
            seen["session"] = os.getsid(pid)
            seen["group"] = os.getpgid(pid)
            return super().call_tool(path, arguments)

    runner = WorkerRunner(InspectingHost(), Limits(time_limit=2.5, memory_limit=16 * MIB))
    runner.run("app.integrations.clicksend.get_account_balance{}")
    rows = {line[:26].strip(): line[26:].split() for line in str(seen["limits"]).splitlines()[1:]}
    address_space = str(256 * MIB + 8 * 16 * MIB)
    assert rows["Max cpu time"][:2] == ["4", "5"]
    assert rows["Max address space"][:2] == [address_space, address_space]
    assert rows["Max core file size"][:2] == ["0", "0"]
    assert seen["session"] == runner.pid
    assert seen["group"] == runner.pid


def test_worker_time_in_host_counts_toward_deadline():
    class SlowHost(EchoHost):
        def call_tool(self, path, arguments):
            time.sleep(1 + GRACE_SECONDS + 0.2)
            return super().call_tool(path, arguments)

    runner = WorkerRunner(SlowHost(), Limits(time_limit=1))
    result = runner.run("app.integrations.clicksend.sms{} return 1")
    assert result.error == TIME_LIMIT_1
    assert [call.status for call in result.integration_calls] == ["ok"]
    assert not process_exists(runner.pid)


def test_worker_killed_from_outside_reports_worker_error(host):
    runner = WorkerRunner(host, Limits(time_limit=10))
    killer = threading.Timer(0.5, lambda: os.kill(runner.pid, signal.SIGKILL))
    killer.start()
    try:
        result = runner.run("while true do end")
    finally:
        killer.join()
    assert result.error_kind == "worker"
    assert result.error == "the worker process was killed by signal SIGKILL before the script finished"
    assert runner.run("return 'next run'").result == "next run"


def test_worker_cpu_limit_is_time_limit(host, monkeypatch):
    # RLIMIT_CPU is the backstop for a parent that stops serving; here it fires long before the deadline.
    monkeypatch.setattr(worker, "_os_limits", lambda limits: {"cpu_seconds": 1, "address_space": None})
    started = time.monotonic()
    result = worker_run(host, "while true do end", time_limit=10)
    elapsed = time.monotonic() - started
    assert result.error == "time limit of 10 s reached; raise it with --time-limit"
    assert elapsed < 5


def test_worker_exit_status_is_reported(host, monkeypatch):
    monkeypatch.setattr(worker, "_WORKER_MODULE", "kosmo_clicksend_no_such_module")
    result = worker_run(host, "return 1")
    assert result.error_kind == "worker"
    assert result.error.startswith("the worker process exited with status 1 before the script finished")
    assert "No module named kosmo_clicksend_no_such_module" in result.error


def test_worker_invalid_message_is_worker_error(host, monkeypatch):
    # "python -m platform" prints the platform name, which is not a protocol message.
    monkeypatch.setattr(worker, "_WORKER_MODULE", "platform")
    result = worker_run(host, "return 1")
    assert result.error_kind == "worker"
    assert result.error.startswith("the worker sent an invalid message (not JSON")


def test_worker_runner_failure_is_worker_error():
    # A worker whose ScriptRunner raised sends "failed" instead of a result. No known script makes
    # the runner raise, so this checks how the parent decodes that message.
    result = worker._decode_final({"type": "failed", "error": "ValueError: bad"}, 12.5)
    assert result.error == "the worker's script runner failed: ValueError: bad"
    assert result.error_kind == "worker"


def test_worker_killed_when_host_interrupts():
    class InterruptingHost(EchoHost):
        def call_tool(self, path, arguments):
            raise KeyboardInterrupt

    runner = WorkerRunner(InterruptingHost(), Limits())
    with pytest.raises(KeyboardInterrupt):
        runner.run("app.integrations.clicksend.sms{}")
    assert not process_exists(runner.pid)


def test_worker_execution_time_includes_start(host):
    result = worker_run(host, "return 1")
    assert result.execution_time_ms > 0
    assert result.memory_usage > 0
