"""Tests of simulated accounts: ClickSend's test accounts, global sending, throttling, the part
cap, sender address verification, status codes and pagination over many rows."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kosmo_clicksend.simulator import (
    SimRequest,
    SimResponse,
    Simulator,
    SimulatorTransport,
)
from kosmo_clicksend.simulator.auth import TEST_API_KEY
from kosmo_clicksend.simulator.outbound import THROTTLE_SECONDS
from fakes import FakeClock




def call(
    sim: Simulator,
    method: str,
    path: str,
    body: Any = None,
    *,
    auth: tuple[str, str] | None = ("user", "key"),
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> tuple[SimResponse, dict[str, Any]]:
    all_headers = dict(headers or {})
    if auth is not None:
        all_headers["authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    raw = json.dumps(body).encode() if body is not None else b""
    response = sim.handle(SimRequest(method, path, query or {}, all_headers, raw))
    return response, json.loads(response.body)


def sms_statuses(sim: Simulator, messages: list[dict[str, Any]], **kwargs: Any) -> list[str]:
    _, envelope = call(sim, "POST", "/v3/sms/send", {"messages": messages}, **kwargs)
    return [message["status"] for message in envelope["data"]["messages"]]


# Status codes


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Bearer abc"}, 401),
        ({"authorization": "Basic " + base64.b64encode(b"user").decode()}, 401),
        ({"authorization": "Basic " + base64.b64encode(b":key").decode()}, 401),
    ],
)
def test_auth_missing_or_malformed_is_401(sim: Simulator, headers: dict[str, str], status: int) -> None:
    response, envelope = call(sim, "GET", "/v3/account", auth=None, headers=headers)
    assert response.status == status
    assert envelope["http_code"] == status
    assert envelope["response_code"] == "UNAUTHORIZED"


def test_unknown_path_needs_no_known_route(sim: Simulator) -> None:
    response, envelope = call(sim, "DELETE", "/v3/sms/everything")
    assert response.status == 404
    assert envelope["response_code"] == "NOT_FOUND"


def test_wrong_method_on_email_addresses_is_405(sim: Simulator) -> None:
    response, envelope = call(sim, "DELETE", "/v3/email/addresses")
    assert response.status == 405
    assert envelope["http_code"] == 405
    assert response.headers["allow"] == "GET, POST"


def test_too_many_messages_is_400_field_map(sim: Simulator) -> None:
    body = {"messages": [{"to": "+61411111111", "body": "hi"}] * 1001}
    response, envelope = call(sim, "POST", "/v3/voice/send", body)
    assert response.status == 400
    assert envelope["response_code"] == "BAD_REQUEST"
    assert isinstance(envelope["data"]["messages"], str)


# ClickSend's test accounts


def test_test_account_wrong_key_is_401(sim: Simulator) -> None:
    response, _ = call(sim, "GET", "/v3/account", auth=("nocredit", "my-own-key"))
    assert response.status == 401


def test_nocredit_account_has_zero_balance(sim: Simulator) -> None:
    _, envelope = call(sim, "GET", "/v3/account", auth=("nocredit", TEST_API_KEY))
    assert envelope["data"]["balance"] == "0.000000"
    assert envelope["data"]["active"] == 1


def test_notactive_account_reads_account_only(sim: Simulator) -> None:
    account, account_envelope = call(sim, "GET", "/v3/account", auth=("notactive", TEST_API_KEY))
    send, send_envelope = call(
        sim, "POST", "/v3/sms/send", {"messages": [{"to": "+61411111111", "body": "hi"}]}, auth=("notactive", TEST_API_KEY)
    )
    assert account.status == 200
    assert account_envelope["data"]["active"] == 0
    assert send.status == 403
    assert send_envelope["response_code"] == "ACCOUNT_NOT_ACTIVATED"


def test_banned_account_is_403_everywhere(sim: Simulator) -> None:
    response, envelope = call(sim, "GET", "/v3/account", auth=("banned", TEST_API_KEY))
    assert response.status == 403
    assert envelope["response_code"] == "FORBIDDEN"


# Recipients: global sending and throttling


def test_country_not_enabled_without_global_sending(clock: FakeClock) -> None:
    with Simulator(clock=clock, global_sending=False) as simulator:
        messages = [
            {"to": "+61412345678", "body": "home"},
            {"to": "+64211234567", "body": "abroad"},
            {"to": "+14055555555", "body": "test number abroad"},
        ]
        _, envelope = call(simulator, "POST", "/v3/sms/send", {"messages": messages})
    statuses = [message["status"] for message in envelope["data"]["messages"]]
    assert statuses == ["SUCCESS", "COUNTRY_NOT_ENABLED", "SUCCESS"]
    assert envelope["data"]["blocked_count"] == 1


def test_global_sending_switched_off_per_account(sim: Simulator) -> None:
    call(sim, "GET", "/v3/account")
    sim.update_account("user", global_sending=False)
    assert sms_statuses(sim, [{"to": "+447400123456", "body": "hi"}]) == ["COUNTRY_NOT_ENABLED"]


def test_throttled_same_body_same_recipient(sim: Simulator, clock: FakeClock) -> None:
    first = sms_statuses(sim, [{"to": "+61412345678", "body": "again"}])
    clock.now += THROTTLE_SECONDS - 1
    second = sms_statuses(sim, [{"to": "+61412345678", "body": "again"}, {"to": "+61412345678", "body": "other"}])
    clock.now += 2
    third = sms_statuses(sim, [{"to": "+61412345678", "body": "again"}])
    assert first == ["SUCCESS"]
    assert second == ["THROTTLED", "SUCCESS"]
    assert third == ["SUCCESS"]


def test_throttled_within_one_request(sim: Simulator) -> None:
    messages = [{"to": "+61412345678", "body": "twice"}] * 2
    assert sms_statuses(sim, messages) == ["SUCCESS", "THROTTLED"]
    assert sim.account_state("user")["sms_count"] == 1


def test_throttle_exempts_test_numbers(sim: Simulator) -> None:
    messages = [{"to": "+61411111111", "body": "twice"}] * 2
    assert sms_statuses(sim, messages) == ["SUCCESS", "SUCCESS"]


def test_voice_throttled_same_body(sim: Simulator) -> None:
    message = {"to": "+61412345678", "body": "call", "voice": "female"}
    _, envelope = call(sim, "POST", "/v3/voice/send", {"messages": [message, message]})
    assert [row["status"] for row in envelope["data"]["messages"]] == ["SUCCESS", "THROTTLED"]


def test_local_number_uses_account_default_country(clock: FakeClock) -> None:
    with Simulator(clock=clock, default_country="GB") as simulator:
        _, envelope = call(simulator, "POST", "/v3/sms/price", {"messages": [{"to": "07400 123456", "body": "hi"}]})
    message = envelope["data"]["messages"][0]
    assert message["to"] == "+447400123456"
    assert message["country"] == "GB"
    assert message["message_price"] == "0.0650"


@pytest.mark.parametrize(
    ("country", "price"),
    [("+61412345678", "0.0792"), ("+12015550123", "0.0330"), ("+447400123456", "0.0650"),
     ("+64211234567", "0.1420"), ("+16135550123", "0.0330"), ("+4915112345678", "0.1500")],
)  # fmt: skip
def test_sms_price_per_country(sim: Simulator, country: str, price: str) -> None:
    _, envelope = call(sim, "POST", "/v3/sms/price", {"messages": [{"to": country, "body": "hi"}]})
    assert envelope["data"]["messages"][0]["message_price"] == price


# Parts and the account's part cap


def test_sms_part_cap_follows_account_setting(sim: Simulator) -> None:
    body = {"messages": [{"to": "+61412345678", "body": "a" * 2000}]}
    _, default_cap = call(sim, "POST", "/v3/sms/price", body)
    sim.update_account("user", sms_part_limit=8)
    _, raised_cap = call(sim, "POST", "/v3/sms/price", body)
    _, account = call(sim, "GET", "/v3/account")
    assert default_cap["data"]["messages"][0]["message_parts"] == 6
    assert raised_cap["data"]["messages"][0]["message_parts"] == 8
    assert account["data"]["setting_sms_message_char_limit"] == 8


def test_insufficient_credit_after_balance_runs_out(sim: Simulator) -> None:
    call(sim, "GET", "/v3/account")
    sim.update_account("user", balance="0.10")
    first = sms_statuses(sim, [{"to": "+61412345678", "body": "one"}])
    second = sms_statuses(sim, [{"to": "+61412345679", "body": "two"}])
    assert first == ["SUCCESS"]
    assert second == ["INSUFFICIENT_CREDIT"]
    assert sim.account_state("user")["balance"] == "0.020800"


# Sender address verification


def new_address(sim: Simulator, address: str = "new@example.com") -> int:
    _, envelope = call(sim, "POST", "/v3/email/addresses", {"email_address": address})
    return int(envelope["data"]["email_address_id"])


def test_email_verification_flow(sim: Simulator) -> None:
    address_id = new_address(sim)
    sent, sent_envelope = call(sim, "PUT", f"/v3/email/address-verify/{address_id}/send")
    token = sim.account_state("user")["email_verification_tokens"]["new@example.com"]
    verified, verified_envelope = call(sim, "PUT", f"/v3/email/address-verify/{address_id}/verify/{token}")
    _, view = call(sim, "GET", f"/v3/email/addresses/{address_id}")
    assert sent.status == 200
    assert sent_envelope["response_msg"] == "Verification email has been sent."
    assert verified.status == 200
    assert verified_envelope["data"]["verified"] == 1
    assert view["data"]["verified"] == 1
    assert sim.account_state("user")["email_verification_tokens"] == {}


def test_email_verification_wrong_token_is_400(sim: Simulator) -> None:
    address_id = new_address(sim)
    call(sim, "PUT", f"/v3/email/address-verify/{address_id}/send")
    response, envelope = call(sim, "PUT", f"/v3/email/address-verify/{address_id}/verify/WRONG")
    assert response.status == 400
    assert "activation_token" in envelope["data"]


def test_email_verification_unknown_address_is_404(sim: Simulator) -> None:
    response, _ = call(sim, "PUT", "/v3/email/address-verify/999/send")
    assert response.status == 404


def test_verified_address_can_send_email(sim: Simulator) -> None:
    address_id = new_address(sim)
    body = {"to": [{"email": "test1@test.com"}], "from": {"email_address_id": address_id}, "body": "Hi"}
    before, _ = call(sim, "POST", "/v3/email/send", body)
    call(sim, "PUT", f"/v3/email/address-verify/{address_id}/send")
    token = sim.account_state("user")["email_verification_tokens"]["new@example.com"]
    call(sim, "PUT", f"/v3/email/address-verify/{address_id}/verify/{token}")
    after, _ = call(sim, "POST", "/v3/email/send", body)
    assert before.status == 403
    assert after.status == 200


# Pagination over many rows


def test_pagination_walks_three_hundred_rows(sim: Simulator) -> None:
    for batch in range(3):
        messages = [{"to": "+61411111111", "body": f"row {batch * 100 + n}"} for n in range(100)]
        call(sim, "POST", "/v3/sms/send", {"messages": messages})
    transport = SimulatorTransport(sim)
    bodies: list[str] = []
    pages: list[dict[str, Any]] = []
    with httpx.Client(transport=transport, auth=("user", "key")) as http:
        url: str | None = "https://rest.clicksend.com/v3/sms/history?limit=40"
        while url is not None:
            page_number = parse_qs(urlsplit(url).query)["page"][0] if "page=" in url else "1"
            data = http.get(url.split("?")[0], params={"page": page_number, "limit": 40}).json()["data"]
            pages.append(data)
            bodies.extend(row["body"] for row in data["data"])
            url = data["next_page_url"]
    assert bodies == [f"row {n}" for n in range(300)]
    assert len(pages) == 8
    assert [page["current_page"] for page in pages] == list(range(1, 9))
    assert {page["last_page"] for page in pages} == {8}
    assert {page["total"] for page in pages} == {300}
    assert pages[-1]["from"] == 281
    assert pages[-1]["to"] == 300
    assert pages[-1]["next_page_url"] is None
    assert pages[-1]["prev_page_url"].endswith("page=7")


def test_pagination_page_past_end_is_empty(sim: Simulator) -> None:
    call(sim, "POST", "/v3/sms/send", {"messages": [{"to": "+61411111111", "body": "x"}] * 20})
    _, envelope = call(sim, "GET", "/v3/sms/history", query={"page": "5"})
    data = envelope["data"]
    assert data["data"] == []
    assert data["current_page"] == 5
    assert data["last_page"] == 2
    assert data["from"] is None
    assert data["next_page_url"] is None


def test_state_file_gains_new_columns(tmp_path: Path, clock: FakeClock) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with Simulator(path, clock=clock) as simulator:
        call(simulator, "GET", "/v3/account")
    connection = sqlite3.connect(path)
    connection.execute("ALTER TABLE accounts DROP COLUMN sms_part_limit")
    connection.commit()
    connection.close()
    with Simulator(path, clock=clock) as simulator:
        state = simulator.account_state("user")
    assert state["sms_part_limit"] == 6
