"""The kosmo-clicksend command line, run in-process and as an installed command."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kosmo_clicksend.cli import main

ROOT = Path(__file__).resolve().parent.parent


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "sim.sqlite3")


@pytest.fixture
def two_accounts(tmp_path: Path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        '[accounts.default]\nusername = "main-user"\napi_key = "KEY-0123456789"\n\n'
        '[accounts.work]\nusername = "work-user"\napi_key = "KEY-work"\n',
        encoding="utf-8",
    )
    return str(path)


def test_run_prints_output_then_result(state):
    code, out, err = cli("run", "--sandbox", "--sandbox-state", state, "-e", 'print("hi") return {a = 1}')
    assert code == 0
    assert out == 'hi\n{\n  "a": 1\n}\n'
    assert err == ""


def test_run_without_return_prints_output_only(state):
    code, out, _ = cli("run", "--sandbox", "--sandbox-state", state, "-e", 'print("only")')
    assert code == 0
    assert out == "only\n"


def test_run_reads_standard_input(state):
    code, out, _ = cli("run", "--sandbox", "--sandbox-state", state, "-", stdin="return 40 + 2")
    assert code == 0
    assert out == "42\n"


def test_run_json_envelope(state):
    code, out, _ = cli(
        "run", "--sandbox", "--sandbox-state", state, "--json", "-e",
        'print("x") return app.integrations.clicksend.get_account_balance{}.currency',
    )
    envelope = json.loads(out)
    assert code == 0
    assert set(envelope) == {
        "success", "output", "error", "result", "execution_time_ms", "memory_usage", "integration_calls",
        "total_spend", "currency", "dry_run",
    }
    assert envelope["success"] is True
    assert envelope["output"] == "x"
    assert envelope["result"] == "AUD"
    assert envelope["integration_calls"][0]["function"] == "clicksend_get_account_balance"
    assert set(envelope["integration_calls"][0]) == {"function", "account", "status", "duration_ms", "error"}


def test_run_script_error_exits_1_with_stderr(state):
    code, out, err = cli("run", "--sandbox", "--sandbox-state", state, "-e", 'error("nope")')
    assert code == 1
    assert out == ""
    assert err == "error: eval:1: nope\n"


def test_run_tool_error_exits_1(state):
    code, _, err = cli("run", "--sandbox", "--sandbox-state", state, "-e", "app.integrations.clicksend.sms{}")
    assert code == 1
    assert err.startswith("error: clicksend_send_sms: messages is missing")


def test_run_json_failure_envelope(state):
    code, out, _ = cli("run", "--sandbox", "--sandbox-state", state, "--json", "-e", "error('x', 0)")
    envelope = json.loads(out)
    assert code == 1
    assert envelope["success"] is False
    assert envelope["error"] == "x"


def test_run_time_limit_flag(state):
    started = time.monotonic()
    code, _, err = cli("run", "--sandbox", "--sandbox-state", state, "--time-limit", "1", "-e", "while true do end")
    assert code == 1
    assert "time limit of 1 s reached" in err
    assert time.monotonic() - started < 3


def test_run_memory_limit_flag(state):
    code, _, err = cli("run", "--sandbox", "--sandbox-state", state, "--memory-limit", "2MiB", "-e", "local t = {} for i = 1, 1e8 do t[i] = i end")
    assert code == 1
    assert "memory limit of 2 MiB reached" in err


def test_run_without_code_is_usage_error():
    code, _, err = cli("run", "--sandbox", "-e", "1", "file.lua")
    assert code == 2
    assert "not both" in err


def test_run_missing_file_is_usage_error(tmp_path):
    code, _, err = cli("run", "--sandbox", str(tmp_path / "missing.lua"))
    assert code == 2
    assert "cannot read script" in err


def test_bad_flag_is_usage_error():
    with pytest.raises(SystemExit) as caught:
        cli("run", "--time-limit", "soon")
    assert caught.value.code == 2


def test_no_account_without_sandbox_is_usage_error():
    code, _, err = cli("run", "-e", "return 1")
    assert code == 2
    assert "CLICKSEND_USERNAME" in err
    assert "--sandbox" in err


def test_env_credentials_define_default_account(monkeypatch, state):
    monkeypatch.setenv("CLICKSEND_USERNAME", "env-user")
    monkeypatch.setenv("CLICKSEND_API_KEY", "KEY-env")
    code, out, _ = cli("call", "get_account_balance", "--sandbox", "--sandbox-state", state)
    assert code == 0
    assert json.loads(out)["data"]["username"] == "env-user"


def test_named_account_from_config_in_sandbox(two_accounts, state):
    code, out, _ = cli(
        "run", "--sandbox", "--sandbox-state", state, "--config", two_accounts, "-e",
        "return app.integrations.clicksend.work.get_account_balance{}.data.username",
    )
    assert code == 0
    assert out == '"work-user"\n'


def test_sandbox_state_is_shared_between_runs(state):
    send = 'app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "one"}}}'
    cli("run", "--sandbox", "--sandbox-state", state, "-e", send)
    code, out, _ = cli("run", "--sandbox", "--sandbox-state", state, "-e", "return app.integrations.clicksend.get_sms_history{}.data.total")
    assert code == 0
    assert out == "1\n"


def test_sandbox_state_defaults_to_user_data_dir():
    cli("run", "--sandbox", "-e", "return app.integrations.clicksend.get_account_balance{}.balance")
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert (data_home / "kosmo-clicksend" / "simulator.sqlite3").exists()


def test_call_prints_data(state):
    code, out, _ = cli("call", "clicksend_get_account_balance", "--sandbox", "--sandbox-state", state)
    assert code == 0
    assert json.loads(out)["response_code"] == "SUCCESS"


def test_call_json_envelope(state):
    code, out, _ = cli("call", "sms", '{"messages": [{"to": "+61411111111", "body": "hi"}]}', "--sandbox", "--sandbox-state", state, "--json")
    envelope = json.loads(out)
    assert code == 0
    assert set(envelope) == {"function", "success", "data", "error", "meta", "duration_ms"}
    assert envelope["function"] == "clicksend_send_sms"
    assert envelope["meta"]["account"] == "default"


def test_call_invalid_arguments_exit_1(state):
    code, out, _ = cli("call", "sms", '{"messages": []}', "--sandbox", "--sandbox-state", state, "--json")
    envelope = json.loads(out)
    assert code == 1
    assert envelope["success"] is False
    assert "messages is empty" in envelope["error"]


def test_call_bad_json_is_usage_error(state):
    code, _, err = cli("call", "sms", "{nope", "--sandbox", "--sandbox-state", state)
    assert code == 2
    assert "not valid JSON" in err


def test_call_unknown_function(state):
    code, _, err = cli("call", "send_fax", "--sandbox", "--sandbox-state", state)
    assert code == 2
    assert "Unknown function: send_fax" in err


def test_call_unknown_function_json_has_every_key(state):
    code, out, _ = cli("call", "send_fax", "--sandbox", "--sandbox-state", state, "--json")
    envelope = json.loads(out)
    assert code == 2
    assert set(envelope) == {"function", "success", "data", "error", "meta", "duration_ms"}
    assert envelope["success"] is False


def test_call_unknown_account(state):
    code, _, err = cli("call", "sms", "--account", "nope", "--sandbox", "--sandbox-state", state)
    assert code == 2
    assert "Unknown account 'nope'" in err


def test_run_empty_standard_input_is_usage_error(state):
    code, _, err = cli("run", "--sandbox", "--sandbox-state", state, stdin="")
    assert code == 2
    assert "standard input was empty" in err


def test_run_bad_sandbox_state_is_usage_error(tmp_path):
    bad = tmp_path / "not-a-database"
    bad.write_text("hello, this is not SQLite" * 100, encoding="utf-8")
    code, _, err = cli("run", "--sandbox", "--sandbox-state", str(bad), "-e", "return 1")
    assert code == 2
    assert "cannot open the simulator state" in err


def test_run_config_error_with_json_prints_envelope(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[accounts.default]\nusername = 'x'\n", encoding="utf-8")
    code, out, _ = cli("run", "--config", str(bad), "--json", "-e", "return 1")
    envelope = json.loads(out)
    assert code == 2
    assert envelope["success"] is False
    assert "api_key is missing" in envelope["error"]


def test_docs_unknown_page_exits_1():
    code, out, err = cli("docs", "nonsense")
    assert code == 1
    assert out == ""
    assert err.startswith("Page 'nonsense' not found.")


@pytest.mark.parametrize("page", ["sms", "clicksend.clicksend_send_sms", "app.integrations.clicksend.sms"])
def test_docs_accepts_short_page_forms(page):
    code, out, _ = cli("docs", page)
    assert code == 0
    assert out.startswith("# app.integrations.clicksend.sms(")


def test_docs_prints_namespace_page():
    code, out, _ = cli("docs")
    assert code == 0
    assert out == (ROOT / "lua_docs" / "clicksend.md").read_text(encoding="utf-8")


def test_docs_account_page_from_config(two_accounts):
    code, out, _ = cli("docs", "integrations.clicksend.work", "--config", two_accounts)
    assert code == 0
    assert out.startswith("# app.integrations.clicksend.work")


def test_help_lists_every_tool():
    with pytest.raises(SystemExit):
        cli("run", "--help")


def test_config_error_is_usage_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[accounts.default]\nusername = 'x'\n", encoding="utf-8")
    code, _, err = cli("run", "--config", str(bad), "-e", "return 1")
    assert code == 2
    assert "api_key is missing" in err


def test_key_never_printed_with_verbose_logging(two_accounts, state, capsys):
    code, out, err = cli(
        "run", "-v", "--sandbox", "--sandbox-state", state, "--config", two_accounts, "--json", "-e",
        "print(app.integrations.clicksend.get_account_balance{}) return app.integrations.clicksend.work.get_account_balance{}",
    )
    captured = capsys.readouterr()
    assert code == 0
    for text in (out, err, captured.out, captured.err):
        assert "KEY-0123456789" not in text
        assert "KEY-work" not in text


def test_installed_command_runs_quickstart(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, "-m", "kosmo_clicksend", "run", "--sandbox", str(ROOT / "lua_docs" / "examples" / "quickstart.lua")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "sms:\tSUCCESS" in completed.stdout
