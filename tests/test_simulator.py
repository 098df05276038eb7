"""Tests of the offline ClickSend simulator, run in-process through Simulator.handle and httpx."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kosmo_clicksend.simulator import (
    SimRequest,
    SimResponse,
    Simulator,
    SimulatorTransport,
    sms_parts,
)
from kosmo_clicksend.simulator.auth import TEST_API_KEY
from fakes import START, FakeClock

BASE_URL = "https://rest.clicksend.com/v3"



@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SimulatorTransport(sim), base_url=BASE_URL, auth=("user", "key")) as http:
        yield http


def basic_header(username: str, api_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{api_key}".encode()).decode()
    return {"authorization": f"Basic {token}"}


def call(
    sim: Simulator,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, str] | None = None,
    auth: tuple[str, str] | None = ("user", "key"),
    raw_body: bytes | None = None,
) -> tuple[SimResponse, dict[str, Any]]:
    """Send one request straight to Simulator.handle and decode the JSON envelope."""
    headers = basic_header(*auth) if auth else {}
    if raw_body is None:
        raw_body = json.dumps(body).encode() if body is not None else b""
    response = sim.handle(SimRequest(method=method, path=path, query=query or {}, headers=headers, body=raw_body))
    return response, json.loads(response.body)


def send_sms(sim: Simulator, messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    _, envelope = call(sim, "POST", "/v3/sms/send", {"messages": messages}, **kwargs)
    return envelope


# Authentication and routing


def test_auth_missing_header_is_401(sim: Simulator) -> None:
    response, envelope = call(sim, "GET", "/v3/account", auth=None)
    assert response.status == 401
    assert envelope["response_code"] == "UNAUTHORIZED"
    assert envelope["response_msg"] == "Authorization failed."
    assert envelope["data"] is None


def test_auth_malformed_header_is_401(sim: Simulator) -> None:
    request = SimRequest("GET", "/v3/account", {}, {"authorization": "Basic not-base64!"}, b"")
    assert sim.handle(request).status == 401


def test_auth_empty_key_is_401(sim: Simulator) -> None:
    response, _ = call(sim, "GET", "/v3/account", auth=("user", ""))
    assert response.status == 401


def test_auth_wrong_key_is_401(sim: Simulator) -> None:
    call(sim, "GET", "/v3/account", auth=("user", "right-key"))
    response, envelope = call(sim, "GET", "/v3/account", auth=("user", "wrong-key"))
    assert response.status == 401
    assert envelope["response_code"] == "UNAUTHORIZED"


def test_auth_splits_at_first_colon(sim: Simulator) -> None:
    first, _ = call(sim, "GET", "/v3/account", auth=("ops@example.com", "key:with:colons"))
    second, envelope = call(sim, "GET", "/v3/account", auth=("ops@example.com", "key:with:colons"))
    assert first.status == 200
    assert second.status == 200
    assert envelope["data"]["username"] == "ops@example.com"


def test_unknown_path_is_404(client: httpx.Client) -> None:
    response = client.get("/account/balance")
    envelope = response.json()
    assert response.status_code == 404
    assert envelope["http_code"] == 404
    assert envelope["response_code"] == "NOT_FOUND"
    assert envelope["response_msg"]


def test_wrong_method_is_405(client: httpx.Client) -> None:
    response = client.get("/sms/send")
    assert response.status_code == 405
    assert response.json()["response_code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "POST"


def test_invalid_json_body_is_400(sim: Simulator) -> None:
    response, envelope = call(sim, "POST", "/v3/sms/send", raw_body=b"{not json")
    assert response.status == 400
    assert envelope["response_code"] == "BAD_REQUEST"


def test_response_is_json_envelope(client: httpx.Client) -> None:
    response = client.get("/account")
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"http_code", "response_code", "response_msg", "data"}


# Account


def test_account_view_fields(client: httpx.Client) -> None:
    envelope = client.get("/account").json()
    data = envelope["data"]
    assert envelope["response_msg"] == "Here's your account."
    assert data["balance"] == "20.000000"
    assert data["_currency"]["currency_name_short"] == "AUD"
    assert data["_currency"]["currency_prefix_d"] == "$"
    assert data["default_country_sms"] == "AU"
    assert data["active"] == 1
    assert data["banned"] == 0
    assert data["setting_sms_message_char_limit"] == 6
    assert data["_subaccount"]["api_key"] == "<redacted>"


def test_account_view_never_echoes_key(sim: Simulator) -> None:
    response, _ = call(sim, "GET", "/v3/account", auth=("user", "secret-key-123"))
    assert b"secret-key-123" not in response.body


def test_account_currency_setting(clock: FakeClock) -> None:
    with Simulator(clock=clock, currency="GBP", starting_balance="5") as simulator:
        _, envelope = call(simulator, "GET", "/v3/account")
    assert envelope["data"]["_currency"]["currency_name_short"] == "GBP"
    assert envelope["data"]["balance"] == "5.000000"


def test_account_state_unknown_user_raises(sim: Simulator) -> None:
    with pytest.raises(KeyError):
        sim.account_state("nobody")


def test_simulator_rejects_unknown_currency() -> None:
    with pytest.raises(ValueError):
        Simulator(currency="XYZ")


# SMS send and price


def test_sms_send_partial_rejection_keeps_200(client: httpx.Client) -> None:
    response = client.post(
        "/sms/send", json={"messages": [{"to": "+61411111111", "body": "hi"}, {"to": "+610", "body": "hi"}]}
    )
    envelope = response.json()
    rejected = envelope["data"]["messages"][1]
    assert response.status_code == 200
    assert envelope["response_code"] == "SUCCESS"
    assert envelope["response_msg"] == "Messages queued for delivery."
    assert envelope["data"]["queued_count"] == 1
    assert envelope["data"]["blocked_count"] == 1
    assert envelope["data"]["total_count"] == 2
    assert rejected["status"] == "INVALID_RECIPIENT"
    assert rejected["message_price"] == "0.0000"
    assert rejected["message_parts"] == 0
    assert rejected["schedule"] == ""
    assert "direction" not in rejected


def test_sms_send_accepted_message_fields(sim: Simulator) -> None:
    envelope = send_sms(sim, [{"to": "0412345678", "body": "Hello", "custom_string": "order-42"}])
    message = envelope["data"]["messages"][0]
    expected_keys = {
        "direction", "date", "to", "body", "from", "schedule", "message_id", "message_parts", "message_price",
        "from_email", "list_id", "custom_string", "contact_id", "user_id", "subaccount_id",
        "is_shared_system_number", "country", "carrier", "status",
    }  # fmt: skip
    assert set(message) == expected_keys
    assert message["to"] == "+61412345678"
    assert message["date"] == START
    assert message["message_price"] == "0.0792"
    assert message["custom_string"] == "order-42"
    assert message["country"] == "AU"
    assert message["status"] == "SUCCESS"
    assert message["message_id"] == message["message_id"].upper()
    assert len(message["message_id"]) == 36
    assert envelope["data"]["_currency"]["currency_name_short"] == "AUD"


def test_sms_send_test_number_is_free(client: httpx.Client, sim: Simulator) -> None:
    before = client.get("/account").json()["data"]["balance"]
    envelope = client.post("/sms/send", json={"messages": [{"to": "+61411111111", "body": "free"}]}).json()
    after = client.get("/account").json()["data"]["balance"]
    history = client.get("/sms/history").json()["data"]
    assert envelope["data"]["messages"][0]["message_price"] == "0.0000"
    assert envelope["data"]["total_price"] == 0
    assert after == before
    assert history["total"] == 1
    assert history["data"][0]["to"] == "+61411111111"


def test_sms_send_lowers_balance_for_real_number(sim: Simulator) -> None:
    envelope = send_sms(sim, [{"to": "+61412345678", "body": "paid"}, {"to": "+6421 123 4567", "body": "paid"}])
    assert envelope["data"]["total_price"] == pytest.approx(0.0792 + 0.1420)
    assert sim.account_state("user")["balance"] == "19.778800"
    assert sim.account_state("user")["sms_count"] == 2


def test_sms_send_insufficient_credit(clock: FakeClock) -> None:
    with Simulator(clock=clock, starting_balance="0.10") as simulator:
        envelope = send_sms(
            simulator,
            [
                {"to": "+61412345678", "body": "first"},
                {"to": "+61412345679", "body": "second"},
                {"to": "+61411111111", "body": "test number"},
            ],
        )
        statuses = [message["status"] for message in envelope["data"]["messages"]]
        state = simulator.account_state("user")
    assert statuses == ["SUCCESS", "INSUFFICIENT_CREDIT", "SUCCESS"]
    assert envelope["data"]["blocked_count"] == 1
    assert envelope["data"]["total_price"] == pytest.approx(0.0792)
    assert state["balance"] == "0.020800"
    assert state["sms_count"] == 2


def test_sms_send_nocredit_account_is_rejected(sim: Simulator) -> None:
    messages = [{"to": "+61412345678", "body": "hi"}, {"to": "+61411111111", "body": "hi"}]
    envelope = send_sms(sim, messages, auth=("nocredit", TEST_API_KEY))
    statuses = [message["status"] for message in envelope["data"]["messages"]]
    assert statuses == ["INSUFFICIENT_CREDIT", "SUCCESS"]


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ({"to": "+61412345678", "body": ""}, "EMPTY_MESSAGE"),
        ({"to": "+61412345678", "body": "   "}, "EMPTY_MESSAGE"),
        ({"to": "+61412345678"}, "EMPTY_MESSAGE"),
        ({"body": "no recipient"}, "MISSING_REQUIRED_FIELDS"),
        ({"to": "not a number", "body": "hi"}, "INVALID_RECIPIENT"),
        ({"to": "+1555", "body": "hi"}, "INVALID_RECIPIENT"),
        ({"to": "+61412345678", "body": "hi", "from": "TooLongSender1"}, "INVALID_SENDER_ID"),
        ({"to": "+61412345678", "body": "hi", "from": "AB"}, "INVALID_SENDER_ID"),
        ({"to": "+61412345678", "body": "hi", "from": "My Shop"}, "INVALID_SENDER_ID"),
        ({"to": "+61412345678", "body": "hi", "from": "123"}, "INVALID_SENDER_ID"),
        ({"to": "+61412345678", "body": "hi", "schedule": "tomorrow"}, "INVALID_SCHEDULE"),
        ({"to": "+61412345678", "body": "hi", "schedule": 1.5}, "INVALID_SCHEDULE"),
        ({"list_id": 999, "body": "hi"}, "NOT_ENOUGH_PERMISSION_TO_LIST_ID"),
        ({"to": "+61412345678", "body": "hi", "from": "MyShop"}, "SUCCESS"),
        ({"to": "+61412345678", "body": "hi", "from": "+61411111111"}, "SUCCESS"),
        ({"to": "+61412345678", "body": "hi", "schedule": str(START + 60)}, "SUCCESS"),
        ({"to": "+61412345678", "body": "hi", "schedule": 0}, "SUCCESS"),
    ],
)
def test_sms_send_message_status(sim: Simulator, message: dict[str, Any], status: str) -> None:
    envelope = send_sms(sim, [message])
    assert envelope["data"]["messages"][0]["status"] == status


def test_sms_send_local_number_uses_message_country(sim: Simulator) -> None:
    envelope = send_sms(sim, [{"to": "021 123 4567", "country": "NZ", "body": "kia ora"}])
    message = envelope["data"]["messages"][0]
    assert message["to"] == "+64211234567"
    assert message["country"] == "NZ"
    assert message["message_price"] == "0.1420"


def test_sms_send_alpha_sender_is_not_shared(sim: Simulator) -> None:
    message = send_sms(sim, [{"to": "+61412345678", "body": "hi", "from": "MyShop"}])["data"]["messages"][0]
    assert message["from"] == "MyShop"
    assert message["is_shared_system_number"] is False


@pytest.mark.parametrize("messages", [None, "text", []])
def test_sms_send_bad_messages_field_is_400(sim: Simulator, messages: Any) -> None:
    response, envelope = call(sim, "POST", "/v3/sms/send", {"messages": messages})
    assert response.status == 400
    assert envelope["response_code"] == "BAD_REQUEST"
    assert "messages" in envelope["data"]


def test_sms_send_over_1000_messages_is_400(sim: Simulator) -> None:
    messages = [{"to": "+61411111111", "body": "hi"}] * 1001
    response, envelope = call(sim, "POST", "/v3/sms/send", {"messages": messages})
    assert response.status == 400
    assert "messages" in envelope["data"]
    assert sim.account_state("user")["sms_count"] == 0


def test_sms_send_list_expands_to_contacts(sim: Simulator) -> None:
    envelope = send_sms(sim, [{"list_id": 1, "body": "hello list"}])
    messages = envelope["data"]["messages"]
    _, history = call(sim, "GET", "/v3/sms/history")
    assert envelope["data"]["total_count"] == 3
    assert [message["list_id"] for message in messages] == ["1", "1", "1"]
    assert messages[0]["contact_id"] is not None
    assert history["data"]["data"][0]["first_name"] == "Alice"


def test_sms_send_other_accounts_list_is_rejected(sim: Simulator) -> None:
    call(sim, "GET", "/v3/account", auth=("other", "key"))
    _, lists = call(sim, "GET", "/v3/lists", auth=("other", "key"))
    other_list_id = lists["data"]["data"][0]["list_id"]
    envelope = send_sms(sim, [{"list_id": other_list_id, "body": "hi"}])
    assert envelope["data"]["messages"][0]["status"] == "NOT_ENOUGH_PERMISSION_TO_LIST_ID"


def test_sms_price_unicode_costs_three_parts(client: httpx.Client) -> None:
    gsm_body = "a" * 150
    unicode_body = "a" * 149 + "\u2019"
    envelope = client.post(
        "/sms/price",
        json={"messages": [{"to": "+61412345678", "body": gsm_body}, {"to": "+61412345678", "body": unicode_body}]},
    ).json()
    gsm, unicode = envelope["data"]["messages"]
    assert envelope["response_msg"] == "Here is some pricing."
    assert gsm["message_parts"] == 1
    assert unicode["message_parts"] == 3
    assert float(unicode["message_price"]) == pytest.approx(3 * float(gsm["message_price"]))


def test_sms_price_charges_and_records_nothing(sim: Simulator) -> None:
    _, envelope = call(sim, "POST", "/v3/sms/price", {"messages": [{"to": "+61412345678", "body": "hi"}]})
    state = sim.account_state("user")
    assert envelope["data"]["total_price"] == pytest.approx(0.0792)
    assert envelope["data"]["messages"][0]["schedule"] == ""
    assert state["balance"] == "20.000000"
    assert state["sms_count"] == 0


# SMS parts


@pytest.mark.parametrize(("length", "parts"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (918, 6), (2000, 6)])
def test_sms_parts_gsm_boundaries(length: int, parts: int) -> None:
    result = sms_parts("a" * length)
    assert result.encoding == "GSM-7"
    assert result.parts == parts


@pytest.mark.parametrize(("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3), (402, 6), (403, 6)])
def test_sms_parts_unicode_boundaries(length: int, parts: int) -> None:
    result = sms_parts("\u00e7" + "\u4e2d" * (length - 1))
    assert result.encoding == "Unicode"
    assert result.characters == length
    assert result.parts == parts


def test_sms_parts_extension_chars_count_two() -> None:
    result = sms_parts("^{}\\[]~|\u20ac")
    assert result.encoding == "GSM-7"
    assert result.characters == 18


def test_sms_parts_extension_chars_cross_boundary() -> None:
    assert sms_parts("a" * 158 + "[").parts == 1
    assert sms_parts("a" * 159 + "[").parts == 2


def test_sms_parts_line_breaks_count_two() -> None:
    assert sms_parts("a\nb").characters == 4
    assert sms_parts("a\r\nb").characters == 4


def test_sms_parts_lists_unicode_characters() -> None:
    result = sms_parts("it\u2019s \u2019ok\u2019 \U0001f600")
    assert result.unicode_characters == ["\u2019", "\U0001f600"]
    assert result.characters == 12


def test_sms_parts_empty_body() -> None:
    assert sms_parts("").parts == 0


# SMS history


def test_sms_history_second_page_fields(client: httpx.Client) -> None:
    messages = [{"to": "+61411111111", "body": f"message {number}"} for number in range(40)]
    client.post("/sms/send", json={"messages": messages})
    envelope = client.get("/sms/history", params={"page": 2, "limit": 15}).json()
    data = envelope["data"]
    assert envelope["response_msg"] == "Here are your data."
    assert data["total"] == 40
    assert data["per_page"] == 15
    assert data["current_page"] == 2
    assert data["last_page"] == 3
    assert data["from"] == 16
    assert data["to"] == 30
    assert data["next_page_url"] == "https://rest.clicksend.com/v3/sms/history?page=3"
    assert data["prev_page_url"] == "https://rest.clicksend.com/v3/sms/history?page=1"
    assert len(data["data"]) == 15
    assert data["data"][0]["body"] == "message 15"


def test_sms_history_limit_clamped_to_100(client: httpx.Client) -> None:
    client.post("/sms/send", json={"messages": [{"to": "+61411111111", "body": "hi"}] * 120})
    data = client.get("/sms/history", params={"limit": 500}).json()["data"]
    assert data["per_page"] == 100
    assert len(data["data"]) == 100


def test_sms_history_limit_clamped_to_15(client: httpx.Client) -> None:
    data = client.get("/sms/history", params={"limit": 5}).json()["data"]
    assert data["per_page"] == 15


def test_sms_history_empty_page(client: httpx.Client) -> None:
    data = client.get("/sms/history").json()["data"]
    assert data["total"] == 0
    assert data["last_page"] == 0
    assert data["from"] is None
    assert data["to"] is None
    assert data["next_page_url"] is None
    assert data["prev_page_url"] is None
    assert data["data"] == []


def test_sms_history_row_fields(sim: Simulator) -> None:
    send_sms(sim, [{"to": "+61412345678", "body": "hi"}])
    _, envelope = call(sim, "GET", "/v3/sms/history")
    row = envelope["data"]["data"][0]
    expected_keys = {
        "direction", "date", "to", "body", "status", "from", "schedule", "status_code", "status_text",
        "error_code", "error_text", "message_id", "message_parts", "message_price", "from_email", "list_id",
        "custom_string", "contact_id", "user_id", "subaccount_id", "country", "carrier", "first_name",
        "last_name", "_api_username",
    }  # fmt: skip
    assert set(row) == expected_keys
    assert row["message_price"] == "0.079200"
    assert row["schedule"] == str(START)
    assert row["_api_username"] == "user"


def test_sms_history_status_moves_with_clock(sim: Simulator, clock: FakeClock) -> None:
    send_sms(sim, [{"to": "+61412345678", "body": "hi"}])
    _, queued = call(sim, "GET", "/v3/sms/history")
    clock.advance(10)
    _, completed = call(sim, "GET", "/v3/sms/history")
    assert queued["data"]["data"][0]["status"] == "Queued"
    assert completed["data"]["data"][0]["status"] == "Completed"
    assert completed["data"]["data"][0]["status_code"] == "201"
    assert completed["data"]["data"][0]["status_text"] == "Message delivered to the handset"


def test_sms_history_scheduled_message(sim: Simulator, clock: FakeClock) -> None:
    send_sms(sim, [{"to": "+61412345678", "body": "later", "schedule": START + 3600}])
    _, before = call(sim, "GET", "/v3/sms/history")
    clock.advance(3610)
    _, after = call(sim, "GET", "/v3/sms/history")
    assert before["data"]["data"][0]["status"] == "Scheduled"
    assert after["data"]["data"][0]["status"] == "Completed"


def test_sms_history_date_filters_are_inclusive(sim: Simulator, clock: FakeClock) -> None:
    for offset in (0, 100, 200):
        clock.now = START + offset
        send_sms(sim, [{"to": "+61411111111", "body": f"at {offset}"}])
    query = {"date_from": str(START + 100), "date_to": str(START + 200)}
    _, envelope = call(sim, "GET", "/v3/sms/history", query=query)
    bodies = [row["body"] for row in envelope["data"]["data"]]
    assert bodies == ["at 100", "at 200"]


def test_sms_history_date_to_excludes_later(sim: Simulator, clock: FakeClock) -> None:
    for offset in (0, 100):
        clock.now = START + offset
        send_sms(sim, [{"to": "+61411111111", "body": f"at {offset}"}])
    _, envelope = call(sim, "GET", "/v3/sms/history", query={"date_to": str(START + 99)})
    assert [row["body"] for row in envelope["data"]["data"]] == ["at 0"]


def test_sms_history_non_integer_date_is_400(sim: Simulator) -> None:
    response, envelope = call(sim, "GET", "/v3/sms/history", query={"date_from": "2026-11-01"})
    assert response.status == 400
    assert "date_from" in envelope["data"]


def test_sms_history_search_by_recipient(client: httpx.Client) -> None:
    messages = [{"to": "+61411111111", "body": "one"}, {"to": "+61422222222", "body": "two"}]
    client.post("/sms/send", json={"messages": messages})
    data = client.get("/sms/history", params={"q": "to:+61422222222"}).json()["data"]
    assert data["total"] == 1
    assert data["data"][0]["body"] == "two"


def test_sms_history_search_unencoded_plus(sim: Simulator) -> None:
    send_sms(sim, [{"to": "+61411111111", "body": "one"}, {"to": "+61422222222", "body": "two"}])
    # An unencoded "+" in a query string decodes to a space.
    _, envelope = call(sim, "GET", "/v3/sms/history", query={"q": "to: 61422222222"})
    assert envelope["data"]["total"] == 1


def test_sms_history_search_by_status_case_insensitive(sim: Simulator, clock: FakeClock) -> None:
    send_sms(sim, [{"to": "+61411111111", "body": "old"}])
    clock.advance(60)
    send_sms(sim, [{"to": "+61411111111", "body": "new"}])
    _, envelope = call(sim, "GET", "/v3/sms/history", query={"q": "status:completed"})
    assert [row["body"] for row in envelope["data"]["data"]] == ["old"]


def test_sms_history_unknown_search_field_is_400(sim: Simulator) -> None:
    response, envelope = call(sim, "GET", "/v3/sms/history", query={"q": "colour:red"})
    assert response.status == 400
    assert "q" in envelope["data"]


def test_sms_history_order_desc(sim: Simulator, clock: FakeClock) -> None:
    for offset in (0, 100):
        clock.now = START + offset
        send_sms(sim, [{"to": "+61411111111", "body": f"at {offset}"}])
    _, envelope = call(sim, "GET", "/v3/sms/history", query={"order_by": "date:desc"})
    assert [row["body"] for row in envelope["data"]["data"]] == ["at 100", "at 0"]


def test_sms_history_page_links_use_request_host(sim: Simulator) -> None:
    send_sms(sim, [{"to": "+61411111111", "body": "hi"}] * 20)
    transport = SimulatorTransport(sim)
    with httpx.Client(transport=transport, base_url="http://localhost:8080/v3", auth=("user", "key")) as http:
        data = http.get("/sms/history").json()["data"]
    assert data["next_page_url"] == "http://localhost:8080/v3/sms/history?page=2"


# State and identifiers


def test_state_survives_new_simulator(tmp_path: Any, clock: FakeClock) -> None:
    state_file = tmp_path / "nested" / "state.sqlite3"
    with Simulator(state_file, clock=clock) as first:
        first_send = send_sms(first, [{"to": "+61412345678", "body": "one"}])
        first_ids = [message["message_id"] for message in first_send["data"]["messages"]]
    with Simulator(state_file, clock=clock) as second:
        state = second.account_state("user")
        second_send = send_sms(second, [{"to": "+61412345678", "body": "two"}])
        second_ids = [message["message_id"] for message in second_send["data"]["messages"]]
        _, history = call(second, "GET", "/v3/sms/history")
        wrong_key, _ = call(second, "GET", "/v3/account", auth=("user", "other-key"))
    assert state["balance"] == "19.920800"
    assert state["sms_count"] == 1
    assert history["data"]["total"] == 2
    assert set(first_ids).isdisjoint(second_ids)
    assert wrong_key.status == 401


def test_message_ids_repeat_for_same_seed(clock: FakeClock) -> None:
    ids = []
    for _ in range(2):
        with Simulator(clock=clock, seed=7) as simulator:
            envelope = send_sms(simulator, [{"to": "+61411111111", "body": "hi"}])
            ids.append(envelope["data"]["messages"][0]["message_id"])
    assert ids[0] == ids[1]


def test_message_ids_differ_across_seeds(clock: FakeClock) -> None:
    ids = []
    for seed in (1, 2):
        with Simulator(clock=clock, seed=seed) as simulator:
            envelope = send_sms(simulator, [{"to": "+61411111111", "body": "hi"}])
            ids.append(envelope["data"]["messages"][0]["message_id"])
    assert ids[0] != ids[1]


def test_concurrent_sends_keep_counts_consistent(tmp_path: Any, clock: FakeClock) -> None:
    errors: list[BaseException] = []
    message_ids: list[str] = []
    ids_lock = threading.Lock()

    with Simulator(tmp_path / "state.sqlite3", clock=clock) as simulator:
        call(simulator, "GET", "/v3/account")

        def worker(worker_number: int) -> None:
            try:
                for number in range(5):
                    body = f"hi {worker_number} {number}"
                    messages = [{"to": "+61412345678", "body": body}, {"to": "+61411111111", "body": body}]
                    envelope = send_sms(simulator, messages)
                    with ids_lock:
                        message_ids.extend(m["message_id"] for m in envelope["data"]["messages"])
            except BaseException as error:  # collected and re-checked in the main thread
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        state = simulator.account_state("user")

    assert errors == []
    assert state["sms_count"] == 80
    assert state["balance"] == "16.832000"
    assert len(set(message_ids)) == 80


def test_closed_simulator_raises(clock: FakeClock) -> None:
    simulator = Simulator(clock=clock)
    simulator.close()
    with pytest.raises(RuntimeError):
        call(simulator, "GET", "/v3/account")


# Voice


def test_voice_send_fields_and_default_lang(client: httpx.Client) -> None:
    envelope = client.post(
        "/voice/send", json={"messages": [{"to": "+61412345678", "body": "Your code is 1, 2, 3.", "voice": "female"}]}
    ).json()
    message = envelope["data"]["messages"][0]
    assert envelope["response_msg"] == "Messages queued for delivery."
    assert message["status"] == "SUCCESS"
    assert message["lang"] == "en-us"
    assert message["message_price"] == "0.0700"
    assert message["to_type"] == "mobile"
    assert message["from"] is None
    assert message["date"] is None
    assert message["date_added"] == START


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ({"to": "+61412345678", "body": "hi"}, "INVALID_VOICE"),
        ({"to": "+61412345678", "body": "hi", "voice": "robot"}, "INVALID_VOICE"),
        ({"to": "+61412345678", "body": "hi", "voice": "male", "lang": "xx-yy"}, "INVALID_LANG"),
        ({"to": "+61412345678", "body": "hi", "voice": "male", "lang": "en-in"}, "INVALID_VOICE"),
        ({"to": "+61412345678", "body": "hi", "voice": "male", "lang": "pt-pt"}, "SUCCESS"),
        ({"to": "+61412345678", "body": "", "voice": "male"}, "EMPTY_MESSAGE"),
    ],
)
def test_voice_send_message_status(sim: Simulator, message: dict[str, Any], status: str) -> None:
    _, envelope = call(sim, "POST", "/v3/voice/send", {"messages": [message]})
    assert envelope["data"]["messages"][0]["status"] == status


def test_voice_price_parts_and_no_charge(sim: Simulator) -> None:
    body = {"messages": [{"to": "+61412345678", "body": "a" * 301, "voice": "female", "lang": "en-au"}]}
    _, envelope = call(sim, "POST", "/v3/voice/price", body)
    assert envelope["data"]["messages"][0]["message_parts"] == 2
    assert envelope["data"]["total_price"] == pytest.approx(0.14)
    assert sim.account_state("user")["voice_count"] == 0


def test_voice_parts_capped_at_four(sim: Simulator) -> None:
    body = {"messages": [{"to": "+61412345678", "body": "a" * 2000, "voice": "female"}]}
    _, envelope = call(sim, "POST", "/v3/voice/price", body)
    assert envelope["data"]["messages"][0]["message_parts"] == 4


def test_voice_history_lists_calls(sim: Simulator, clock: FakeClock) -> None:
    call(sim, "POST", "/v3/voice/send", {"messages": [{"to": "+61411111111", "body": "hi", "voice": "male"}]})
    clock.advance(30)
    _, envelope = call(sim, "GET", "/v3/voice/history")
    assert envelope["response_msg"] == "Here is your history."
    assert envelope["data"]["total"] == 1
    assert envelope["data"]["data"][0]["status"] == "Completed"
    assert sim.account_state("user")["voice_count"] == 1


def test_voice_lang_gender_types(client: httpx.Client) -> None:
    languages = {row["code"]: row for row in client.get("/voice/lang").json()["data"]}
    assert languages["en-au"]["gender"] == ["female", "male"]
    assert languages["pt-pt"]["gender"] == "male"
    assert languages["sv-se"]["gender"] == "female"


# Email


def sender_id(sim: Simulator, address: str, username: str = "user") -> int:
    _, envelope = call(sim, "GET", "/v3/email/addresses", auth=(username, "key"))
    rows = envelope["data"]["data"]
    return next(row["email_address_id"] for row in rows if row["email_address"] == address)


def test_email_addresses_seeded(sim: Simulator) -> None:
    _, envelope = call(sim, "GET", "/v3/email/addresses", auth=("ops@example.com", "key"))
    rows = {row["email_address"]: row for row in envelope["data"]["data"]}
    assert rows["sender@example.com"]["verified"] == 1
    assert rows["ops@example.com"]["verified"] == 1
    assert rows["unverified@example.com"]["verified"] == 0
    assert isinstance(rows["sender@example.com"]["date_added"], str)


def test_email_address_add_is_unverified(sim: Simulator) -> None:
    _, envelope = call(sim, "POST", "/v3/email/addresses", {"email_address": "new@example.com"})
    assert envelope["response_msg"] == "Email address has been created."
    assert envelope["data"]["verified"] == 0


def test_email_address_add_invalid_is_400(sim: Simulator) -> None:
    response, envelope = call(sim, "POST", "/v3/email/addresses", {"email_address": "not-an-address"})
    assert response.status == 400
    assert "email_address" in envelope["data"]


def test_email_send_to_test_recipient(sim: Simulator) -> None:
    body = {
        "to": [{"email": "test1@test.com", "name": "Test"}],
        "from": {"email_address_id": sender_id(sim, "sender@example.com"), "name": "Sender"},
        "subject": "Hello",
        "body": "<p>Hi &amp; welcome</p>",
    }
    response, envelope = call(sim, "POST", "/v3/email/send", body)
    data = envelope["data"]
    assert response.status == 200
    assert envelope["response_msg"] == "Transactional email queued for delivery."
    assert data["to"] == [{"email": "test1@test.com", "name": "Test"}]
    assert data["price"] == "0.0000"
    assert data["body_plain_text"] == "Hi & welcome"
    assert data["status"] == "WaitApproval"
    assert sim.account_state("user")["email_count"] == 1
    assert sim.account_state("user")["balance"] == "20.000000"


def test_email_send_charges_per_recipient(sim: Simulator) -> None:
    body = {
        "to": [{"email": "a@example.com"}, {"email": "test2@test.com"}],
        "cc": [{"email": "b@example.com"}],
        "from": {"email_address_id": str(sender_id(sim, "sender@example.com"))},
        "body": "Hi",
    }
    _, envelope = call(sim, "POST", "/v3/email/send", body)
    assert envelope["data"]["price"] == "0.0100"
    assert sim.account_state("user")["balance"] == "19.990000"


def test_email_send_unverified_sender_is_403(sim: Simulator) -> None:
    body = {
        "to": [{"email": "test1@test.com"}],
        "from": {"email_address_id": sender_id(sim, "unverified@example.com")},
        "body": "Hi",
    }
    response, envelope = call(sim, "POST", "/v3/email/send", body)
    assert response.status == 403
    assert envelope["response_code"] == "FORBIDDEN"
    assert "unverified@example.com" in envelope["response_msg"]
    assert sim.account_state("user")["email_count"] == 0


def test_email_send_unknown_sender_is_404(sim: Simulator) -> None:
    body = {"to": [{"email": "test1@test.com"}], "from": {"email_address_id": 9999}, "body": "Hi"}
    response, envelope = call(sim, "POST", "/v3/email/send", body)
    assert response.status == 404
    assert envelope["response_code"] == "NOT_FOUND"


def test_email_send_missing_fields_is_400(sim: Simulator) -> None:
    response, envelope = call(sim, "POST", "/v3/email/send", {"to": "test1@test.com", "subject": "Hi"})
    assert response.status == 400
    assert envelope["response_code"] == "BAD_REQUEST"
    assert set(envelope["data"]) == {"to", "from", "body"}


def test_email_send_invalid_recipient_is_400(sim: Simulator) -> None:
    body = {
        "to": [{"email": "test1@test.com"}, {"email": "nope"}],
        "from": {"email_address_id": sender_id(sim, "sender@example.com")},
        "body": "Hi",
    }
    response, envelope = call(sim, "POST", "/v3/email/send", body)
    assert response.status == 400
    assert "to.1.email" in envelope["data"]


def test_email_price_counts_recipients(sim: Simulator) -> None:
    body = {
        "to": [{"email": "a@example.com"}],
        "bcc": [{"email": "b@example.com"}],
        "from": {"email_address_id": 1},
        "body": "x",
    }
    _, envelope = call(sim, "POST", "/v3/email/price", body)
    assert envelope["data"]["price"] == pytest.approx(0.01)
    assert sim.account_state("user")["email_count"] == 0


def test_email_history_rows(sim: Simulator, clock: FakeClock) -> None:
    sender = {"email_address_id": sender_id(sim, "sender@example.com")}
    body = {"to": [{"email": "test1@test.com"}], "from": sender, "body": "Hi"}
    call(sim, "POST", "/v3/email/send", body)
    clock.advance(30)
    _, envelope = call(sim, "GET", "/v3/email/history")
    row = envelope["data"]["data"][0]
    assert envelope["response_msg"] == "Here is your result."
    assert row["status"] == "Sent"
    assert row["cc"] is None
    assert row["date_added"] == str(START)


# Post: return addresses and letters


def letter(**overrides: Any) -> dict[str, Any]:
    recipient = {
        "address_name": "Ada Example",
        "address_line_1": "1 Test Street",
        "address_city": "Perth",
        "address_state": "WA",
        "address_postal_code": "11111",
        "address_country": "AU",
        "return_address_id": 1,
    }
    recipient.update(overrides)
    return recipient


def test_return_addresses_seeded(sim: Simulator) -> None:
    _, envelope = call(sim, "GET", "/v3/post/return-addresses")
    row = envelope["data"]["data"][0]
    assert row["address_name"] == "Sandbox Sender"
    assert row["address_country"] == "AU"
    assert row["return_address_id"] == 1


def test_return_address_add_missing_fields_is_400(sim: Simulator) -> None:
    response, envelope = call(sim, "POST", "/v3/post/return-addresses", {"address_name": "Office"})
    assert response.status == 400
    assert set(envelope["data"]) == {"address_line_1", "address_city", "address_postal_code", "address_country"}


def test_return_address_add(sim: Simulator) -> None:
    address = {
        "address_name": "Office",
        "address_line_1": "2 Side Road",
        "address_city": "Perth",
        "address_postal_code": "6000",
        "address_country": "au",
    }
    _, envelope = call(sim, "POST", "/v3/post/return-addresses", address)
    assert envelope["response_msg"] == "New return address has been added."
    assert envelope["data"]["address_country"] == "AU"
    assert envelope["data"]["return_address_id"] == 2


def test_letter_send_missing_file_url_is_400(sim: Simulator) -> None:
    response, envelope = call(sim, "POST", "/v3/post/letters/send", {"recipients": [letter()]})
    assert response.status == 400
    assert envelope["response_code"] == "BAD_REQUEST"
    assert "file_url" in envelope["data"]


def test_letter_send_test_postcode_is_free(sim: Simulator) -> None:
    body = {"file_url": "https://example.com/letter.pdf", "recipients": [letter()], "unknown_field": 1}
    _, envelope = call(sim, "POST", "/v3/post/letters/send", body)
    recipient = envelope["data"]["recipients"][0]
    assert envelope["response_msg"] == "Letters queued for delivery."
    assert recipient["status"] == "SUCCESS"
    assert recipient["post_price"] == "0.0000"
    assert recipient["_return_address"]["address_name"] == "Sandbox Sender"
    assert recipient["_file_url"] == "https://example.com/letter.pdf"
    assert sim.account_state("user")["letter_count"] == 1
    assert sim.account_state("user")["balance"] == "20.000000"


def test_letter_price_colour_and_priority(sim: Simulator) -> None:
    body = {
        "file_url": "https://example.com/letter.pdf",
        "colour": 1,
        "priority_post": 1,
        "recipients": [letter(address_postal_code="6000")],
    }
    _, envelope = call(sim, "POST", "/v3/post/letters/price", body)
    assert envelope["data"]["recipients"][0]["post_price"] == "2.5000"
    assert envelope["data"]["total_price"] == pytest.approx(2.5)
    assert envelope["data"]["total_cost"] == pytest.approx(2.5)
    assert sim.account_state("user")["letter_count"] == 0


@pytest.mark.parametrize(
    ("recipient", "status"),
    [
        (letter(address_line_1=""), "MISSING_REQUIRED_FIELDS"),
        ({key: value for key, value in letter().items() if key != "return_address_id"}, "MISSING_REQUIRED_FIELDS"),
        (letter(return_address_id=999), "INVALID_RETURN_ADDRESS"),
        (letter(schedule="soon"), "INVALID_SCHEDULE"),
    ],
)
def test_letter_send_recipient_status(sim: Simulator, recipient: dict[str, Any], status: str) -> None:
    body = {"file_url": "https://example.com/letter.pdf", "recipients": [recipient]}
    response, envelope = call(sim, "POST", "/v3/post/letters/send", body)
    assert response.status == 200
    assert envelope["data"]["recipients"][0]["status"] == status
    assert envelope["data"]["blocked_count"] == 1


def test_letter_send_charges_balance(sim: Simulator) -> None:
    body = {"file_url": "https://example.com/letter.pdf", "recipients": [letter(address_postal_code="6000")]}
    call(sim, "POST", "/v3/post/letters/send", body)
    assert sim.account_state("user")["balance"] == "18.800000"


def test_letter_send_without_credit_is_rejected(sim: Simulator) -> None:
    auth = ("nocredit", TEST_API_KEY)
    _, addresses = call(sim, "GET", "/v3/post/return-addresses", auth=auth)
    return_address = addresses["data"]["data"][0]["return_address_id"]
    recipients = [letter(address_postal_code="6000", return_address_id=return_address), letter(return_address_id=return_address)]
    _, envelope = call(sim, "POST", "/v3/post/letters/send", {"file_url": "https://example.com/a.pdf", "recipients": recipients}, auth=auth)
    rows = envelope["data"]["recipients"]
    assert rows[0]["status"] == "INSUFFICIENT_CREDIT"
    assert rows[0]["post_price"] == "0.0000"
    assert rows[1]["status"] == "SUCCESS"
    assert sim.account_state("nocredit")["letter_count"] == 1


def test_letter_history_rows(sim: Simulator) -> None:
    body = {"file_url": "https://example.com/letter.pdf", "recipients": [letter(), letter(address_name="Bo")]}
    call(sim, "POST", "/v3/post/letters/send", body)
    _, envelope = call(sim, "GET", "/v3/post/letters/history")
    assert envelope["data"]["total"] == 2
    assert envelope["data"]["data"][1]["address_name"] == "Bo"
    assert envelope["data"]["data"][0]["status"] == "Queued"


# Contact lists


def test_lists_seeded(client: httpx.Client) -> None:
    envelope = client.get("/lists").json()
    rows = envelope["data"]["data"]
    assert envelope["response_msg"] == "Here are your data."
    assert [row["list_name"] for row in rows] == ["Customers", "Staff"]
    assert [row["_contacts_count"] for row in rows] == [3, 2]
    assert len(rows[0]["list_email_id"]) == 16
    assert rows[0]["_import_in_progress"] == 0


def test_list_view_unknown_is_404(client: httpx.Client) -> None:
    response = client.get("/lists/999")
    assert response.status_code == 404
    assert response.json()["response_msg"] == "Your list is not found."


def test_list_view_other_account_is_403(sim: Simulator) -> None:
    call(sim, "GET", "/v3/account", auth=("other", "key"))
    response, envelope = call(sim, "GET", "/v3/lists/1")
    assert response.status == 403
    assert envelope["response_code"] == "FORBIDDEN"


def test_list_contacts_paginated(client: httpx.Client) -> None:
    list_id = client.get("/lists").json()["data"]["data"][1]["list_id"]
    data = client.get(f"/lists/{list_id}/contacts").json()["data"]
    assert data["total"] == 2
    assert data["data"][0]["phone_number"] == "+61444444444"
    assert data["data"][0]["first_name"] == "Dave"
    assert data["data"][0]["email"] == "dave.brown@example.com"
