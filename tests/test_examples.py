"""Every script under lua_docs/examples runs against the simulator with the output it promises."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "lua_docs" / "examples"


def run_example(run_lua, name):
    result = run_lua((EXAMPLES / name).read_text(encoding="utf-8"))
    assert result.success, result.error
    return result


def test_there_are_at_least_five_examples():
    assert len(list(EXAMPLES.glob("*.lua"))) >= 5


def test_quickstart(run_lua):
    result = run_example(run_lua, "quickstart.lua")
    lines = result.output.splitlines()
    assert lines[0] == "sms:\tSUCCESS\tqueued\t1\trefused\t0"
    assert lines[1] == "voice:\tSUCCESS\tqueued\t1"
    assert lines[2].startswith("price of 3 messages:\t")
    assert lines[3] == "balance:\t20.0\tAUD"
    assert lines[4] == "sms in history:\t1"
    assert result.result == {"balance": 20.0, "currency": "AUD", "history_total": 1}


def test_multi_account_uses_both_accounts(run_lua):
    result = run_example(run_lua, "multi_account.lua")
    lines = result.output.splitlines()
    assert lines[0].startswith("default account:\tmain@example.com\t")
    assert lines[1].startswith("work account:\twork-user\t")
    assert lines[2] == "work sms:\tSUCCESS\ttrue"
    assert lines[3] == "work history rows:\t1"
    assert result.result == {"accounts": 2, "same_user": False}


def test_multi_account_without_work_account(simulator):
    from kosmo_clicksend.config import Account
    from kosmo_clicksend.host import ClickSendHost
    from kosmo_clicksend.lua_runtime import ScriptRunner
    from kosmo_clicksend.simulator import SimulatorTransport
    from kosmo_clicksend.tools import ClickSendService

    service = ClickSendService({"default": Account("default", "solo", "k")}, transport_factory=lambda: SimulatorTransport(simulator))
    result = ScriptRunner(ClickSendHost(service)).run((EXAMPLES / "multi_account.lua").read_text(encoding="utf-8"))
    service.close()
    assert result.result == {"accounts": 1}
    assert "no work account: Unknown account 'work'" in result.output


def test_error_handling(run_lua):
    result = run_example(run_lua, "error_handling.lua")
    output = result.output
    assert "invalid:\tfalse\tclicksend_send_sms: messages[2].body is missing" in output
    assert "refused:\t2\t+61491570156\tTHROTTLED\tthe same text went to this recipient moments ago; wait a few seconds" in output
    assert "all refused:\tfalse\tclicksend_send_sms: ClickSend refused the only message, nothing was sent: message 1 to +61491570156: THROTTLED" in output
    assert "bad number:\tfalse\tclicksend_send_sms: messages[1].to '12345' is not a valid phone number" in output
    assert "unknown function:\tfalse\tUnknown function: app.integrations.clicksend.send_smss. Did you mean:" in output
    assert "the second message needs a body" in output
    assert result.result == {"invalid": False, "refused": 1, "all_refused": False, "unknown": False}


def test_history_range(run_lua):
    result = run_example(run_lua, "history_range.lua")
    assert "rows from this run on page 1:\t3" in result.output
    assert "reversed range:\tfalse\tclicksend_get_sms_history: date_from '2026-07-02' is after date_to '2026-07-01'" in result.output
    assert result.result["total"] == 3
    assert result.result["reversed_range_ok"] is False


def test_email_and_letter(run_lua):
    result = run_example(run_lua, "email_and_letter.lua")
    lines = result.output.splitlines()
    assert lines[0] == "email:\tSUCCESS\tYour receipt\ttest1@test.com"
    assert lines[1].startswith("unknown sender:\tfalse\tclicksend_send_email: from_email_address 'nobody@example.com'")
    assert lines[2] == "letter:\tSUCCESS\tAda Example\t11111\tSUCCESS"
    assert result.result == {"email": "SUCCESS", "letter": "SUCCESS", "unknown_sender_ok": False}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.lua")), ids=lambda path: path.name)
def test_example_compiles_and_runs(run_lua, path):
    assert run_lua(path.read_text(encoding="utf-8")).success
