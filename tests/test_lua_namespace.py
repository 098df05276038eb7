"""app.integrations.clicksend from Lua, against the in-process simulator."""

from __future__ import annotations

import base64
import json

from kosmo_clicksend.simulator import Simulator


def basic_user(request) -> str:
    encoded = request.headers["authorization"].split(" ", 1)[1]
    return base64.b64decode(encoded).decode().split(":", 1)[0]


def sends(requests_log, path="/v3/sms/send"):
    return [request for request in requests_log if request.url.path == path]


def test_balance_comes_from_get_account(run_lua, requests_log):
    result = run_lua("return app.integrations.clicksend.clicksend_get_account_balance({})")
    assert result.success, result.error
    assert [(r.method, r.url.path) for r in requests_log] == [("GET", "/v3/account")]
    assert isinstance(result.result["balance"], float)
    assert result.result["currency"] == "AUD"


def test_balance_result_hides_echoed_api_key(run_lua):
    result = run_lua("return app.integrations.clicksend.get_account_balance{}")
    assert "KEY-0123456789" not in json.dumps(result.result)


def test_short_and_tool_names_send_same_body(run_lua, requests_log):
    result = run_lua("""
    local a = app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "hi"}}}
    local b = app.integrations.clicksend.default.clicksend_send_sms({messages = {{to = "+61411111111", body = "hi"}}})
    return {a.response_code, b.response_code}
    """)
    assert result.result == ["SUCCESS", "SUCCESS"]
    bodies = [json.loads(request.content) for request in sends(requests_log)]
    # Each send gets its own custom_string so that a lost answer can be found in the history.
    for body in bodies:
        for message in body["messages"]:
            assert message.pop("custom_string").startswith("ks-")
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]


def test_named_account_uses_its_own_credentials(run_lua, requests_log):
    result = run_lua("return app.integrations.clicksend.work.get_account_balance{}")
    assert result.success, result.error
    assert [basic_user(request) for request in requests_log] == ["work-user"]


def test_default_account_uses_default_credentials(run_lua, requests_log):
    run_lua("return app.integrations.clicksend.default.get_account_balance{}")
    assert [basic_user(request) for request in requests_log] == ["main@example.com"]


def test_unknown_function_suggests_close_names(run_lua, requests_log):
    result = run_lua("return app.integrations.clicksend.send_fax{}")
    assert result.error.startswith("Unknown function: app.integrations.clicksend.send_fax")
    assert "Did you mean:" in result.error
    assert requests_log == []


def test_unknown_account_names_configured_accounts(run_lua, requests_log):
    result = run_lua("return app.integrations.clicksend.nosuchaccount.sms{messages = {}}")
    assert "nosuchaccount" in result.error
    assert "configured accounts: default, broke, work" in result.error
    assert requests_log == []


def test_account_namespace_called_as_function(run_lua):
    result = run_lua("return app.integrations.clicksend.work{}")
    assert "is an account namespace" in result.error


def test_tool_error_is_catchable_and_starts_with_tool_name(run_lua):
    result = run_lua("""
    local ok, err = pcall(app.integrations.clicksend.sms, {messages = {{to = "+61411111111"}}})
    return {ok = ok, err = err}
    """)
    assert result.result["ok"] is False
    assert result.result["err"].startswith("clicksend_send_sms: ")


def test_validation_failure_sends_nothing_and_history_unchanged(run_lua, requests_log, simulator):
    run_lua("app.integrations.clicksend.get_account_balance{}")
    requests_log.clear()
    result = run_lua('app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "ok"}, {to = "+61422222222"}}}')
    assert "messages[2].body" in result.error
    assert "clicksend_send_sms" in result.error
    assert requests_log == []
    assert simulator.account_state("main@example.com")["sms_count"] == 0


def test_partial_refusal_is_listed(run_lua):
    result = run_lua("""
    local r = app.integrations.clicksend.broke.sms{messages = {{to = "+61411111111", body = "a"}, {to = "+61400000000", body = "b"}}}
    return r.refused
    """)
    assert result.result == [
        {"index": 2, "to": "+61400000000", "status": "INSUFFICIENT_CREDIT", "reason": "the account has not enough credit"}
    ]


def test_no_refusal_gives_empty_refused(run_lua):
    result = run_lua('return #app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "a"}}}.refused')
    assert result.result == 0


def test_all_refused_raises_with_each_status(run_lua):
    result = run_lua("""
    local ok, err = pcall(app.integrations.clicksend.broke.sms, {messages = {{to = "+61400000000", body = "a"}, {to = "+61400000001", body = "b"}}})
    return {ok = ok, err = err}
    """)
    assert result.result["ok"] is False
    assert "message 1 to +61400000000: INSUFFICIENT_CREDIT" in result.result["err"]
    assert "message 2 to +61400000001: INSUFFICIENT_CREDIT" in result.result["err"]


def test_arrays_in_results_are_one_based(run_lua):
    result = run_lua('return app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "a"}}}.data.messages[1].status')
    assert result.result == "SUCCESS"


def test_email_resolves_sender_id(run_lua, requests_log):
    result = run_lua('return app.integrations.clicksend.email{to = "test1@test.com", subject = "Hello", body = "<p>Hi</p>", from_email_address = "sender@example.com"}')
    assert result.success, result.error
    body = json.loads(sends(requests_log, "/v3/email/send")[0].content)
    assert body["to"] == [{"email": "test1@test.com"}]
    assert set(body["from"]) == {"email_address_id"}
    assert "from_email_address" not in body


def test_email_unknown_sender_lists_verified_and_sends_nothing(run_lua, requests_log):
    result = run_lua('return app.integrations.clicksend.email{to = "test1@test.com", subject = "Hello", body = "<p>Hi</p>", from_email_address = "nobody@example.com"}')
    assert "nobody@example.com" in result.error
    assert "sender@example.com" in result.error
    assert sends(requests_log, "/v3/email/send") == []


def test_letter_uses_clicksend_recipient_fields(run_lua, requests_log):
    result = run_lua("""
    return app.integrations.clicksend.post_letter{file_url = "https://example.com/letter.pdf", recipients = {
      {name = "Ada Example", address = "1 Test Street", city = "Perth", state = "WA", postal_code = "11111", country = "AU"}}}
    """)
    assert result.success, result.error
    recipient = json.loads(sends(requests_log, "/v3/post/letters/send")[0].content)["recipients"][0]
    assert set(recipient) == {
        "address_name", "address_line_1", "address_city", "address_state", "address_postal_code", "address_country", "return_address_id",
        "custom_string",
    }


def test_history_date_range_sent_as_unix_seconds(run_lua, requests_log):
    run_lua('return app.integrations.clicksend.get_sms_history{date_from = "2026-11-01", date_to = "2026-11-30"}')
    assert requests_log[0].url.params["date_from"] == "1793491200"
    assert requests_log[0].url.params["date_to"] == "1796083199"


def test_history_limit_below_15_is_trimmed(run_lua):
    result = run_lua("""
    for i = 1, 20 do app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "m" .. i}}} end
    local page = app.integrations.clicksend.get_sms_history{limit = 5, page = 3}
    return {rows = #page.data.data, per_page = page.data.per_page, from = page.data.from, to = page.data.to, last = page.data.last_page, first_body = page.data.data[1].body}
    """)
    assert result.result == {"rows": 5, "per_page": 5, "from": 11, "to": 15, "last": 4, "first_body": "m11"}


def test_sends_appear_in_history_and_state_persists(tmp_path):
    from kosmo_clicksend.config import Account
    from kosmo_clicksend.host import ClickSendHost
    from kosmo_clicksend.lua_runtime import ScriptRunner
    from kosmo_clicksend.simulator import SimulatorTransport
    from kosmo_clicksend.tools import ClickSendService

    state = tmp_path / "state.sqlite3"
    totals = []
    for _ in range(2):
        sim = Simulator(state)
        service = ClickSendService({"default": Account("default", "u", "k")}, transport_factory=lambda sim=sim: SimulatorTransport(sim))
        result = ScriptRunner(ClickSendHost(service)).run("""
        app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "persist"}}}
        return app.integrations.clicksend.get_sms_history{}.data.total
        """)
        service.close()
        sim.close()
        totals.append(result.result)
    assert totals == [1, 2]


def test_read_doc_inside_lua_lists_functions(run_lua):
    result = run_lua('return lua_read_doc("app.integrations.clicksend")')
    assert "## app.integrations.clicksend.sms({messages})" in result.result


def test_integration_call_log_has_tool_and_account(run_lua):
    result = run_lua('app.integrations.clicksend.work.get_account_balance{} pcall(app.integrations.clicksend.sms, {})')
    calls = result.integration_calls
    assert [(c.function, c.account, c.status) for c in calls] == [
        ("clicksend_get_account_balance", "work", "ok"),
        ("clicksend_send_sms", "default", "error"),
    ]


def test_date_in_words_sends_nothing(run_lua, requests_log):
    result = run_lua('return app.integrations.clicksend.get_sms_history{date_from = "last tuesday"}')
    assert "date_from 'last tuesday' is not a date" in result.error
    assert requests_log == []
