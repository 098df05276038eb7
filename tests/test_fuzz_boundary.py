"""Property tests: whatever a script passes to a tool, nothing crashes or hangs, and no invalid request goes out."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kosmo_clicksend.client import RetryPolicy
from kosmo_clicksend.config import Account
from kosmo_clicksend.host import ClickSendHost
from kosmo_clicksend.lua_runtime import Limits, ScriptRunner
from kosmo_clicksend.phones import TEST_NUMBERS
from kosmo_clicksend.tools import ClickSendService

SCALARS = st.one_of(
    st.sampled_from(["nil", "true", "false", "0/0", "1/0", "-1/0", "30/2", "2.5", "-7", "9007199254740993", "math.maxinteger"]),
    st.integers(min_value=-(2**62), max_value=2**62).map(str),
    st.text(max_size=30).map(lambda text: json.dumps(text)),
    st.sampled_from(['"\\xff\\xfe"', '"\\xc2"', 'string.rep("x", 100000)', '"+61411111111"', '"0411 111 111"', '"hi"', '""']),
    st.sampled_from(['"' + number + '"' for number in sorted(TEST_NUMBERS)]),
)
KEYS = st.sampled_from(["to", "body", "from", "messages", "limit", "page", "country", "list_id", "schedule", "x", "1", "[1]", "[3]", "[2.5]", "[true]"])


def table_of(children):
    def render(items):
        parts = []
        for key, value in items:
            if key is None:
                parts.append(value)
            elif key.startswith("["):
                parts.append(f"{key} = {value}")
            elif key.isidentifier():
                parts.append(f"{key} = {value}")
            else:
                parts.append(f"[{json.dumps(key)}] = {value}")
        return "{" + ", ".join(parts) + "}"

    return st.lists(st.tuples(st.one_of(st.none(), KEYS), children), max_size=5).map(render)


LUA_VALUES = st.recursive(SCALARS, table_of, max_leaves=25)


def recording_service(log):
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        log.append(request)
        body = json.loads(request.content) if request.content else {}
        messages = body.get("messages", [])
        rows = [{**message, "status": "SUCCESS"} for message in messages]
        data = {"messages": rows, "total_price": 0, "total_count": len(rows), "queued_count": len(rows), "balance": "1.0",
                "default_country_sms": "AU", "data": [], "total": 0}
        return httpx.Response(200, json={"http_code": 200, "response_code": "SUCCESS", "response_msg": "ok", "data": data})

    return ClickSendService(
        {"default": Account("default", "fuzz", "KEY-fuzz")},
        transport_factory=lambda: httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=1),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LUA_VALUES, st.sampled_from(["sms", "get_sms_price", "voice", "get_sms_history", "email", "post_letter"]))
def test_any_argument_is_validated_or_rejected(value, tool):
    log: list[httpx.Request] = []
    service = recording_service(log)
    runner = ScriptRunner(ClickSendHost(service), Limits(time_limit=5))
    code = f"local arg = {value}\nlocal ok, err = pcall(app.integrations.clicksend.{tool}, arg)\nreturn ok"
    result = runner.run(code)
    service.close()
    assert result.error_kind in (None, "runtime", "syntax", "memory_limit")
    for request in log:
        if request.url.path.endswith(("/sms/send", "/sms/price", "/voice/send")):
            for message in json.loads(request.content)["messages"]:
                assert message["to"].startswith("+")
                assert message["to"][1:].isdigit()
                assert isinstance(message["body"], str) and message["body"]


@settings(max_examples=100, deadline=None)
@given(LUA_VALUES)
def test_any_value_wrapped_in_messages(value):
    log: list[httpx.Request] = []
    service = recording_service(log)
    runner = ScriptRunner(ClickSendHost(service), Limits(time_limit=5))
    code = f"local ok = pcall(app.integrations.clicksend.sms, {{messages = {{{{to = {value}, body = {value}}}}}}})\nreturn ok"
    result = runner.run(code)
    service.close()
    assert result.error_kind in (None, "runtime", "syntax", "memory_limit")
    sends = [request for request in log if request.url.path.endswith("/sms/send")]
    for request in sends:
        message = json.loads(request.content)["messages"][0]
        assert message["to"].startswith("+")


def test_cyclic_and_deep_tables_are_rejected_without_requests():
    log: list[httpx.Request] = []
    service = recording_service(log)
    runner = ScriptRunner(ClickSendHost(service))
    result = runner.run("""
    local t = {} t.messages = {t}
    local deep = {} local cursor = deep for i = 1, 100 do cursor.messages = {} cursor = cursor.messages end
    local a = pcall(app.integrations.clicksend.sms, t)
    local b = pcall(app.integrations.clicksend.sms, deep)
    return {a, b}
    """)
    service.close()
    assert result.result == [False, False]
    assert log == []
