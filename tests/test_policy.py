"""Write permissions, dry runs, the spend cap, the journal and sends whose response was lost."""

from __future__ import annotations

import io
import json
import os
import stat

import httpx
import pytest
import respx

from kosmo_clicksend.cli import main
from kosmo_clicksend.client import RetryPolicy
from kosmo_clicksend.config import Account, Permissions
from kosmo_clicksend.errors import ArgumentError, PermissionDeniedError, SpendLimitError, UnknownOutcomeError
from kosmo_clicksend.journal import Journal, mask_recipient
from kosmo_clicksend.policy import GuardedService, resolve_permissions
from kosmo_clicksend.simulator import SimulatorTransport
from kosmo_clicksend.tools import ClickSendService

BASE_URL = "https://rest.clicksend.com/v3"
PAID_NUMBER = "+61491570156"  # a number in the range Australia reserves for fiction; the simulator charges it


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def real_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[accounts.default]\nusername = "user"\napi_key = "KEY-policy"\n', encoding="utf-8")
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def sim_service(simulator):
    service = ClickSendService(
        {"default": Account("default", "policy-user", "KEY-policy")}, transport_factory=lambda: SimulatorTransport(simulator)
    )
    yield service
    service.close()


def guard_for(service, *, write="allow", **options):
    return GuardedService(service, permissions={"default": Permissions("allow", write)}, **options)


def sms(to=PAID_NUMBER, body="Your table is ready", count=1):
    return {"messages": [{"to": to, "body": f"{body} {index}"} for index in range(count)]}


# Permission to write -------------------------------------------------------------------------


def test_write_without_terminal_names_flag_and_config_key(real_config):
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        send = api.post("/sms/send").respond(200, json={})
        code, _, err = cli("run", "--config", real_config, "-e", 'app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "hi"}}}')
        assert send.call_count == 0
        assert api.calls.call_count == 0
    assert code == 1
    assert "--allow-writes" in err
    assert 'accounts.default.permissions.write = "allow"' in err


def test_reads_are_allowed_by_default(real_config):
    with respx.mock(base_url=BASE_URL) as api:
        api.get("/account").respond(200, json={"http_code": 200, "response_code": "SUCCESS", "data": {"balance": "3.000000"}})
        code, out, _ = cli("run", "--config", real_config, "-e", "return app.integrations.clicksend.get_account_balance{}.balance")
    assert code == 0
    assert out == "3.0\n"


def test_allow_writes_flag_sends(real_config):
    answer = {"http_code": 200, "response_code": "SUCCESS", "data": {"messages": [{"status": "SUCCESS", "message_id": "M1"}]}}
    with respx.mock(base_url=BASE_URL) as api:
        send = api.post("/sms/send").respond(200, json=answer)
        code, _, err = cli(
            "run", "--config", real_config, "--allow-writes", "-e",
            'app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "hi"}}}',
        )
    assert code == 0, err
    assert send.call_count == 1


def test_read_only_flag_denies_sandbox_writes(tmp_path):
    code, _, err = cli(
        "run", "--sandbox", "--sandbox-state", str(tmp_path / "s.db"), "--read-only", "-e",
        'app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "hi"}}}',
    )
    assert code == 1
    assert "writes are denied for account 'default'; run without --read-only" in err


def test_allow_writes_and_read_only_conflict(tmp_path):
    code, _, err = cli("run", "--sandbox", "--allow-writes", "--read-only", "-e", "return 1")
    assert code == 2
    assert "contradict" in err


def test_sandbox_allows_writes_by_default(sim_service):
    permissions = resolve_permissions({"default": None}, Permissions(), sandbox=True)
    assert permissions["default"] == Permissions("allow", "allow")


def test_config_permissions_win_over_defaults():
    account = Account("default", "u", "k", permissions=Permissions(write="deny"))
    permissions = resolve_permissions({"default": account}, Permissions(write="allow"), sandbox=False)
    assert permissions["default"].write == "deny"


def test_ask_confirmed_on_terminal_sends(sim_service, simulator):
    asked = []
    guard = guard_for(sim_service, write="ask", confirm=lambda preview: asked.append(preview) or True)
    guard.call(sim_service.resolve_name("sms"), sms())
    assert len(asked) == 1
    assert asked[0].recipients == [PAID_NUMBER]
    assert asked[0].cost == pytest.approx(0.0792)
    assert simulator.account_state("policy-user")["sms_count"] == 1


def test_ask_declined_sends_nothing(sim_service, simulator):
    guard = guard_for(sim_service, write="ask", confirm=lambda preview: False)
    with pytest.raises(PermissionDeniedError, match="declined"):
        guard.call(sim_service.resolve_name("sms"), sms())
    assert simulator.account_state("policy-user")["sms_count"] == 0


def test_terminal_prompt_shows_preview(real_config, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = io.StringIO(), io.StringIO()
    price = {"http_code": 200, "response_code": "SUCCESS", "data": {"total_price": 0.0792, "_currency": {"currency_name_short": "AUD"}}}
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        api.post("/sms/price").respond(200, json=price)
        send = api.post("/sms/send").respond(200, json={})
        code = main(
            ["call", "sms", json.dumps(sms()), "--journal", str(tmp_path / "j.db"), "--config", real_config],
            stdin=Terminal("n\n"), stdout=out, stderr=err,
        )
        assert send.call_count == 0
    assert code == 1
    assert "price 0.0792 AUD" in err.getvalue()
    assert "About to send: clicksend_send_sms on account 'default': 1 recipient(s)" in err.getvalue()
    assert "declined" in err.getvalue()


# Dry run and spend cap -----------------------------------------------------------------------


def test_dry_run_prices_and_sends_nothing(sim_service, simulator):
    guard = guard_for(sim_service, dry_run=True)
    result = guard.call(sim_service.resolve_name("sms"), sms(count=2))
    assert result["dry_run"] is True
    assert result["total_price"] == pytest.approx(0.1584)
    assert result["recipients"] == [PAID_NUMBER, PAID_NUMBER]
    assert simulator.account_state("policy-user")["sms_count"] == 0


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("voice", {"messages": [{"to": PAID_NUMBER, "body": "hello"}]}),
        ("email", {"to": "ada@example.com", "subject": "s", "body": "<p>b</p>"}),
        ("post_letter", {"file_url": "https://example.com/a.pdf", "recipients": [
            {"name": "Ada", "address": "1 St", "city": "Perth", "state": "WA", "postal_code": "6000", "country": "AU"}]}),
    ],
)
def test_dry_run_prices_every_write_tool(sim_service, simulator, tool, arguments):
    guard = guard_for(sim_service, dry_run=True)
    result = guard.call(sim_service.resolve_name(tool), arguments)
    state = simulator.account_state("policy-user")
    assert result["dry_run"] is True
    assert result["total_price"] > 0
    assert state["voice_count"] + state["email_count"] + state["letter_count"] == 0


def test_spend_cap_stops_next_write(tmp_path):
    code, out, _ = cli(
        "run", "--sandbox", "--sandbox-state", str(tmp_path / "s.db"), "--journal", str(tmp_path / "j.db"),
        "--max-spend", "0.10", "--json", "-e",
        f"""
        local sent = 0
        for i = 1, 10 do
          local ok, err = pcall(app.integrations.clicksend.sms, {{messages = {{{{to = "{PAID_NUMBER}", body = "Order " .. i .. " is ready"}}}}}})
          if not ok then return {{sent = sent, err = err}} end
          sent = sent + 1
        end
        return {{sent = sent}}
        """,
    )
    envelope = json.loads(out)
    assert code == 0
    assert envelope["result"]["sent"] == 1
    assert "costs 0.0792" in envelope["result"]["err"]
    assert "has spent 0.0792" in envelope["result"]["err"]
    assert "cap of 0.1000" in envelope["result"]["err"]
    assert envelope["total_spend"] == pytest.approx(0.0792)


def test_dry_run_reports_projected_spend_against_cap(sim_service):
    guard = guard_for(sim_service, dry_run=True, max_spend=0.10)
    first = guard.call(sim_service.resolve_name("sms"), sms())
    second = guard.call(sim_service.resolve_name("sms"), sms())
    assert first["within_cap"] is True
    assert second["within_cap"] is False
    assert second["projected_spend"] == pytest.approx(0.1584)


def test_dry_run_shows_normalised_recipients(sim_service):
    guard = guard_for(sim_service, dry_run=True)
    result = guard.call(sim_service.resolve_name("sms"), {"messages": [{"to": "0491 570 156", "body": "hi"}]})
    assert result["recipients"] == [PAID_NUMBER]


def test_spend_cap_error_names_config_key(sim_service):
    guard = guard_for(sim_service, max_spend=0.05)
    with pytest.raises(SpendLimitError, match="max_spend in the config file"):
        guard.call(sim_service.resolve_name("sms"), sms())


def test_spend_cap_error_sends_nothing(sim_service, simulator):
    guard = guard_for(sim_service, max_spend=0.05)
    with pytest.raises(SpendLimitError):
        guard.call(sim_service.resolve_name("sms"), sms())
    assert simulator.account_state("policy-user")["sms_count"] == 0


# Journal --------------------------------------------------------------------------------------


def test_journal_records_a_send(sim_service):
    journal = Journal(None)
    guard = guard_for(sim_service, journal=journal)
    result = guard.call(sim_service.resolve_name("sms"), sms())
    entry = journal.recent()[0]
    assert entry.outcome == "sent"
    assert entry.message_ids == [result["data"]["messages"][0]["message_id"]]
    assert entry.recipients == [mask_recipient(PAID_NUMBER)]
    assert PAID_NUMBER not in json.dumps(entry.to_dict())
    assert entry.cost == pytest.approx(0.0792)


def test_journal_skips_invalid_arguments(sim_service):
    journal = Journal(None)
    guard = guard_for(sim_service, journal=journal)
    with pytest.raises(ArgumentError):
        guard.call(sim_service.resolve_name("sms"), {"messages": [{"to": PAID_NUMBER}]})
    assert journal.recent() == []


def test_journal_file_is_private(tmp_path):
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_journal_command_lists_entries(tmp_path):
    state, journal = str(tmp_path / "s.db"), str(tmp_path / "j.db")
    cli("call", "sms", json.dumps(sms()), "--sandbox", "--sandbox-state", state, "--journal", journal)
    code, out, _ = cli("journal", "--journal", journal, "--json")
    entries = json.loads(out)
    assert code == 0
    assert len(entries) == 1
    assert entries[0]["outcome"] == "sent"
    assert entries[0]["tool"] == "clicksend_send_sms"


def test_mask_recipient_hides_middle():
    assert mask_recipient("+61411111111") == "+614*****111"
    assert mask_recipient("ada@example.com") == "a***@example.com"


# Lost responses -------------------------------------------------------------------------------


def lost_send_service():
    return ClickSendService({"default": Account("default", "u", "KEY-lost")}, retry=RetryPolicy(attempts=3), sleep=lambda _: None)


def test_lost_response_found_in_history():
    journal = Journal(None)
    service = lost_send_service()
    guard = guard_for(service, journal=journal)
    sent_bodies = []

    def lose_answer(request: httpx.Request) -> httpx.Response:
        sent_bodies.append(json.loads(request.content))
        raise httpx.ReadTimeout("answer lost", request=request)

    def history(request: httpx.Request) -> httpx.Response:
        tag = sent_bodies[0]["messages"][0]["custom_string"]
        row = {"message_id": "LOST-1", "custom_string": tag, "to": "+61411111111", "message_price": "0.0000", "status": "Queued"}
        data = {"total": 1, "per_page": 100, "current_page": 1, "last_page": 1, "next_page_url": None, "data": [row]}
        return httpx.Response(200, json={"http_code": 200, "response_code": "SUCCESS", "data": data})

    with respx.mock(base_url=BASE_URL) as api:
        send = api.post("/sms/send").mock(side_effect=lose_answer)
        api.get("/sms/history").mock(side_effect=history)
        result = guard.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "once"}]})
    assert send.call_count == 1
    assert result["outcome"] == "found_in_history"
    assert result["data"]["messages"][0]["message_id"] == "LOST-1"
    entries = journal.recent()
    assert len(entries) == 1
    assert entries[0].outcome == "sent"
    assert entries[0].message_ids == ["LOST-1"]


def test_lost_response_not_in_history():
    journal = Journal(None)
    service = lost_send_service()
    guard = guard_for(service, journal=journal)
    empty = {"http_code": 200, "response_code": "SUCCESS", "data": {"total": 0, "next_page_url": None, "data": []}}
    with respx.mock(base_url=BASE_URL) as api:
        send = api.post("/sms/send").mock(side_effect=httpx.RemoteProtocolError("connection reset"))
        api.get("/sms/history").respond(200, json=empty)
        with pytest.raises(UnknownOutcomeError, match="outcome is unknown"):
            guard.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "once"}]})
    assert send.call_count == 1
    assert journal.recent()[0].outcome == "unknown"


def test_next_run_reconciles_pending_entry():
    journal = Journal(None)
    entry = journal.begin(account="default", tool="clicksend_send_sms", recipients=["+61411111111"], custom_strings=["ks-abc-1"])
    service = lost_send_service()
    guard = guard_for(service, journal=journal)
    row = {"message_id": "FOUND-1", "custom_string": "ks-abc-1"}
    with respx.mock(base_url=BASE_URL) as api:
        api.get("/sms/history").respond(200, json={"http_code": 200, "response_code": "SUCCESS", "data": {"data": [row], "next_page_url": None}})
        notes = guard.reconcile()
    assert notes == [f"journal entry {entry} (clicksend_send_sms, account default): sent"]
    assert journal.recent()[0].message_ids == ["FOUND-1"]


# Secrets --------------------------------------------------------------------------------------


def test_key_appears_nowhere(tmp_path):
    state, journal = tmp_path / "s.db", tmp_path / "j.db"
    opener = tmp_path / "opener.toml"
    opener.write_text('[accounts.default]\nusername = "victim"\napi_key = "KEY-first"\n', encoding="utf-8")
    cli("run", "--sandbox", "--sandbox-state", str(state), "--config", str(opener), "-e", "app.integrations.clicksend.get_account_balance{}")
    config = tmp_path / "config.toml"
    config.write_text('[accounts.default]\nusername = "victim"\napi_key = "KEY-0123456789"\n', encoding="utf-8")
    script = """
    local seen = {}
    local function walk(value, depth)
      if depth > 8 then return end
      print(tostring(value))
      if type(value) == "table" and not seen[value] then
        seen[value] = true
        for k, v in pairs(value) do print(tostring(k)) walk(v, depth + 1) end
        local mt = getmetatable(value)
        if type(mt) == "table" then walk(mt, depth + 1) end
      end
    end
    walk(_G, 0)
    walk(app, 0)
    walk(app.integrations.clicksend.default, 0)
    print(pcall(app.integrations.clicksend.get_account_balance, {}))
    print(pcall(app.integrations.clicksend.sms, {messages = {{to = "+61411111111", body = "x"}}}))
    return app.integrations.clicksend
    """
    outputs = []
    for extra in ([], ["--json"], ["-v"], ["-v", "--json"]):
        outputs.extend(cli("run", "--sandbox", "--sandbox-state", str(state), "--journal", str(journal), "--config", str(config), *extra, "-e", script)[1:])
    outputs.append(cli("journal", "--journal", str(journal), "--json")[1])
    assert any("Authorization failed" in text for text in outputs)
    for text in outputs:
        assert "KEY-0123456789" not in text
    assert b"KEY-0123456789" not in journal.read_bytes()
    assert b"KEY-0123456789" not in state.read_bytes()


def test_readable_config_with_key_warns(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[accounts.default]\nusername = "u"\napi_key = "KEY-x"\n', encoding="utf-8")
    path.chmod(0o644)
    _, _, err = cli("run", "--sandbox", "--sandbox-state", str(tmp_path / "s.db"), "--config", str(path), "-e", "return 1")
    assert "other users can read it" in err
    assert "chmod 600" in err
