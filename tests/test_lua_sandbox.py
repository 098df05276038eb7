"""The sandbox itself: blocked libraries, limits, print capture and data conversion."""

from __future__ import annotations

import time

import pytest

from kosmo_clicksend.lua_runtime import Limits, ScriptRunner


class EchoHost:
    """A LuaHost that returns its arguments, so the sandbox is tested without ClickSend."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def call_tool(self, path, arguments):
        self.calls.append((path, arguments))
        return "clicksend_echo", "default", {"path": path, "arguments": arguments}

    def read_doc(self, page):
        return f"page {page}"


@pytest.fixture
def host():
    return EchoHost()


@pytest.fixture
def run(host):
    def run(code, **limits):
        return ScriptRunner(host, Limits(**limits)).run(code)

    return run


@pytest.mark.parametrize(
    "code",
    [
        'return io.open("/etc/hostname"):read("a")',
        'return os.execute("true")',
        'return require("os")',
        'return load("return 1")()',
        "return python.eval('1')",
        "return debug.getinfo(1)",
        "return loadfile('/etc/hostname')",
        "return dofile('/etc/hostname')",
        "return string.dump(print)",
        "return collectgarbage('count')",
        "return package.loaded",
        "return os.getenv('HOME')",
        "return os.remove('/tmp/x')",
    ],
)
def test_blocked_library_fails_inside_script(run, code):
    result = run(code)
    assert result.success is False
    assert result.error_kind == "runtime"
    assert "attempt to" in result.error


@pytest.mark.parametrize("name", ["io", "os.execute", "package", "require", "load", "loadfile", "dofile", "debug", "collectgarbage", "python", "string.dump", "warn"])
def test_blocked_global_is_nil(run, name):
    result = run(f"return {name} == nil")
    assert result.result is True


@pytest.mark.parametrize("name", ["os.time", "os.date", "os.clock", "os.difftime", "string.format", "table.concat", "math.floor", "utf8.char", "coroutine.wrap", "pcall", "json.encode", "lua_read_doc"])
def test_allowed_function_is_present(run, name):
    result = run(f"return type({name})")
    assert result.result == "function"


def test_runner_stays_usable_after_blocked_call(run):
    assert run("return io.open('/etc/hostname')").success is False
    assert run("return 1 + 1").result == 2


def test_time_limit_stops_infinite_loop(run):
    started = time.monotonic()
    result = run("while true do end", time_limit=1)
    elapsed = time.monotonic() - started
    assert result.error_kind == "time_limit"
    assert result.error == "time limit of 1 s reached; raise it with --time-limit"
    assert elapsed < 3


def test_pcall_cannot_catch_time_limit(run):
    result = run("while true do pcall(function() while true do end end) end", time_limit=1)
    assert result.error_kind == "time_limit"


def test_coroutine_cannot_escape_time_limit(run):
    result = run("local co = coroutine.create(function() while true do end end) coroutine.resume(co)", time_limit=1)
    assert result.error_kind == "time_limit"


def test_wrapped_coroutine_cannot_escape_time_limit(run):
    result = run("while true do pcall(coroutine.wrap(function() while true do end end)) end", time_limit=1)
    assert result.error_kind == "time_limit"


def test_xpcall_handler_cannot_escape_time_limit(run):
    result = run("xpcall(function() while true do end end, function() while true do end end)", time_limit=1)
    assert result.error_kind == "time_limit"


def test_memory_limit_stops_table_growth(run):
    result = run("local t = {} for i = 1, 1e9 do t[i] = i end", memory_limit=4 * 1024 * 1024)
    assert result.error_kind == "memory_limit"
    assert result.error == "memory limit of 4 MiB reached; raise it with --memory-limit"


def test_memory_limit_stops_huge_string(run):
    result = run("return string.rep('x', 1e9)", memory_limit=4 * 1024 * 1024)
    assert result.success is False


def test_memory_full_then_tool_call_does_not_hang(run, host):
    code = """
    local hog = {}
    pcall(function() while true do hog[#hog + 1] = string.rep("x", 1000) end end)
    local refused = 0
    for i = 1, 200 do
      hog[#hog] = nil
      local ok = pcall(app.integrations.clicksend.get_account_balance, {})
      if not ok then refused = refused + 1 end
    end
    return refused
    """
    result = run(code, memory_limit=2 * 1024 * 1024, time_limit=10)
    assert result.error_kind in (None, "memory_limit")


def test_setmetatable_on_globals_is_refused(run):
    result = run('setmetatable(_G, {__index = function() error("boom") end}) return 1')
    assert result.success is False
    assert "global table cannot have a metatable" in result.error


def test_gc_metamethod_is_refused(run):
    result = run("setmetatable({}, {__gc = function() end})")
    assert "__gc metamethods are not allowed" in result.error


def test_string_metatable_is_locked(run):
    assert run('return getmetatable("")').result is False


def test_app_proxy_metatable_is_locked(run):
    assert run("return getmetatable(app)").result is False


def test_app_is_read_only(run):
    result = run("app.integrations = 1")
    assert "read-only" in result.error


def test_binary_chunk_is_not_loadable(run):
    assert run("return load == nil and string.dump == nil").result is True


def test_planted_debug_traceback_does_not_hang(run):
    result = run("debug = {traceback = function() while true do end end} while true do end", time_limit=1)
    assert result.error_kind == "time_limit"


def test_python_objects_are_not_reachable(run):
    result = run("""
    local found = {}
    local function walk(t, depth, seen)
      if depth > 6 or seen[t] then return end
      seen[t] = true
      for k, v in pairs(t) do
        if type(v) == "userdata" then found[#found + 1] = tostring(k) end
        if type(v) == "table" then walk(v, depth + 1, seen) end
      end
    end
    walk(_G, 0, {})
    return #found
    """)
    assert result.result == 0


def test_print_is_captured_tab_separated(run):
    result = run('print("a", 1, true, nil)')
    assert result.output == "a\t1\ttrue\tnil"


def test_print_renders_tables_readably(run):
    result = run('print({b = {1, 2}, a = "x"})')
    assert result.output == '{\n  a: "x",\n  b: [\n    1,\n    2\n  ]\n}'


def test_print_marks_cycles(run):
    result = run("local t = {} t.self = t print(t)")
    assert "<circular>" in result.output


def test_output_limit_reports_flag(run):
    result = run('for i = 1, 1e6 do print(string.rep("x", 100)) end', output_limit=10_000)
    assert result.error_kind == "output_limit"
    assert "--output-limit" in result.error


def test_json_round_trip(run):
    result = run('return json.decode(json.encode({a = {1, 2, 3}, b = "x"}))')
    assert result.result == {"a": [1, 2, 3], "b": "x"}


def test_json_decode_invalid_text_raises(run):
    result = run('return json.decode("{nope")')
    assert "json.decode: invalid JSON" in result.error


def test_json_encode_rejects_functions(run):
    result = run("return json.encode({f = print})")
    assert "json.encode" in result.error


def test_read_doc_is_a_lua_global(run):
    assert run('return lua_read_doc("integrations.clicksend")').result == "page integrations.clicksend"


def test_call_and_table_call_forms_are_equal(run, host):
    run('app.integrations.clicksend.sms{messages = {{to = "+1", body = "x"}}}')
    run('app.integrations.clicksend.sms({messages = {{to = "+1", body = "x"}}})')
    assert host.calls[0] == host.calls[1]


def test_method_call_syntax_drops_namespace(run, host):
    run('app.integrations.clicksend:sms{messages = {}}')
    assert host.calls[0] == ("app.integrations.clicksend.sms", {"messages": {}})


def test_lua_arrays_arrive_as_lists(run, host):
    run("app.integrations.clicksend.sms{messages = {{to = 'a'}, {to = 'b'}}}")
    assert host.calls[0][1] == {"messages": [{"to": "a"}, {"to": "b"}]}


def test_holey_table_arrives_as_dict(run, host):
    run("app.integrations.clicksend.sms{messages = {[1] = 'a', [3] = 'c'}}")
    assert host.calls[0][1] == {"messages": {"1": "a", "3": "c"}}


def test_cyclic_arguments_are_rejected_without_call(run, host):
    result = run("local t = {} t.t = t app.integrations.clicksend.sms(t)")
    assert "nested deeper than 32 levels" in result.error
    assert host.calls == []


def test_function_argument_is_rejected_without_call(run, host):
    result = run("app.integrations.clicksend.sms{messages = print}")
    assert "cannot be sent" in result.error
    assert host.calls == []


def test_nan_argument_is_rejected_without_call(run, host):
    result = run("app.integrations.clicksend.sms{limit = 0/0}")
    assert "cannot be sent" in result.error
    assert host.calls == []


def test_invalid_utf8_argument_is_rejected_without_call(run, host):
    result = run('app.integrations.clicksend.sms{body = "\\xff\\xfe"}')
    assert "not valid UTF-8" in result.error
    assert host.calls == []


def test_syntax_error_is_reported(run):
    result = run("x = ")
    assert result.error_kind == "syntax"
    assert result.error.startswith("syntax error: script:1:")


def test_error_table_is_shown_as_json(run):
    assert run("error({code = 1})").error == 'error object: {"code": 1}'


def test_multiple_return_values_become_list(run):
    assert run("return 1, 'two', nil").result == [1, "two", None]


def test_integration_calls_are_logged(run):
    result = run("app.integrations.clicksend.sms{}")
    assert len(result.integration_calls) == 1
    assert result.integration_calls[0].status == "ok"


def test_invalid_utf8_output_is_repaired(run):
    result = run('print("ok \\xff end") return 1')
    assert result.output == "ok \ufffd end"
    assert result.result == 1


def test_invalid_utf8_error_is_repaired(run):
    result = run('error("bad \\xc2 byte", 0)')
    assert result.error == "bad \ufffd byte"


def test_invalid_utf8_proxy_key_is_nil(run):
    result = run('return app.integrations["\\xff"] == nil')
    assert result.result is True


def test_invalid_utf8_return_value_is_reported(run):
    result = run('return "\\xff"')
    assert result.error_kind == "runtime"
    assert "not valid UTF-8" in result.error


def test_invalid_utf8_doc_page_is_refused(run):
    result = run('return lua_read_doc("\\xff")')
    assert "not valid UTF-8" in result.error


def test_call_limit_names_flag(run, host):
    result = run("for i = 1, 5 do app.integrations.clicksend.sms{} end", max_calls=3)
    assert len(host.calls) == 3
    assert "integration call limit of 3 calls reached; raise it with --max-calls" in result.error


def test_result_limit_names_flag(run):
    result = run('return string.rep("x", 5000)', result_limit=1000)
    assert result.error_kind == "result_limit"
    assert "--result-limit" in result.error


def test_shared_string_cannot_inflate_result(run):
    result = run("local s = string.rep('x', 1e6) local t = {} for i = 1, 300 do t[i] = s end return t")
    assert result.error_kind == "result_limit"
    assert "--result-limit" in result.error


def test_setmetatable_on_env_is_refused(run):
    result = run("setmetatable(_ENV, {__newindex = function() end}) return 1")
    assert "global table cannot have a metatable" in result.error


def test_registry_and_upvalues_are_unreachable(run):
    result = run("return debug == nil and getmetatable(print) == nil and rawget(_G, 'python') == nil")
    assert result.result is True
