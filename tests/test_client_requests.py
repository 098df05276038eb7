"""Requests each ClickSend tool sends, and how the service handles ClickSend's responses.

Every test runs inside a strict respx router. A request to an unmocked URL fails the test, and so
does a mocked route that is never called. The response bodies come from ``fixtures/``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from kosmo_clicksend.client import RetryPolicy
from kosmo_clicksend.config import Account
from kosmo_clicksend.errors import (
    ApiError,
    ArgumentError,
    AuthenticationError,
    InvalidResponseError,
    MessagesRefusedError,
    RateLimitError,
    TransportError,
)
from kosmo_clicksend.tools import ClickSendService

BASE_URL = "https://rest.clicksend.com/v3"
FIXTURES = Path(__file__).parent.parent / "fixtures"
API_KEYS = ("KEY-default", "KEY-work")
DEFAULT_USERNAME = "user@example.com"
WORK_USERNAME = "work-user"

# Ids taken from fixtures/email_addresses.json and fixtures/return_addresses.json.
VERIFIED_SENDER = "orders@bakery.example"
VERIFIED_SENDER_ID = 3120
UNVERIFIED_SENDER = "pending@bakery.example"
FIRST_RETURN_ADDRESS_ID = 57


# Helpers ---------------------------------------------------------------------------------------


def load_fixture(name: str) -> dict[str, Any]:
    """Read a ClickSend response body from fixtures/."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def auth_scheme(request: httpx.Request) -> str:
    """Return the scheme of the Authorization header, or "" when it is missing, but never the credentials."""
    return request.headers.get("Authorization", "").partition(" ")[0]


def basic_auth_username(request: httpx.Request) -> str:
    """Return the username of a Basic Authorization header.

    The API key is dropped here, so a failing assert can never show it.
    """
    token = request.headers.get("Authorization", "").partition(" ")[2]
    username, _, _api_key = base64.b64decode(token).decode("utf-8").partition(":")
    return username


def query_params(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


def json_body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def requested_paths(router: respx.MockRouter) -> list[str]:
    return [f"{call.request.method} {call.request.url.path}" for call in router.calls]


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def service() -> Iterator[ClickSendService]:
    accounts = {
        "default": Account("default", DEFAULT_USERNAME, "KEY-default"),
        "work": Account("work", WORK_USERNAME, "KEY-work"),
    }
    # One attempt per request: retries have their own tests.
    clicksend = ClickSendService(accounts, retry=RetryPolicy(attempts=1))
    yield clicksend
    clicksend.close()


# Account balance -------------------------------------------------------------------------------


def test_get_account_balance_request(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/account").respond(200, json=load_fixture("account.json"))

    service.call(service.resolve_name("get_account_balance"), {})

    assert requested_paths(api) == ["GET /v3/account"]
    request = api.calls.last.request
    assert query_params(request) == {}
    assert request.content == b""
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME


def test_get_account_balance_result(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/account").respond(200, json=load_fixture("account.json"))

    result = service.call(service.resolve_name("get_account_balance"), {})

    assert isinstance(result["balance"], float)
    assert result["balance"] == 12.3456
    assert result["currency"] == "AUD"
    assert result["response_code"] == "SUCCESS"


def test_get_account_balance_redacts_api_key(api: respx.MockRouter, service: ClickSendService) -> None:
    echoed_key = load_fixture("account.json")["data"]["_subaccount"]["api_key"]
    api.get("/account").respond(200, json=load_fixture("account.json"))

    result = service.call(service.resolve_name("get_account_balance"), {})

    assert result["data"]["_subaccount"]["api_key"] == "<redacted>"
    assert echoed_key not in json.dumps(result)


def test_get_account_balance_missing_balance_message(api: respx.MockRouter, service: ClickSendService) -> None:
    response_body = load_fixture("account.json")
    del response_body["data"]["balance"]
    api.get("/account").respond(200, json=response_body)

    with pytest.raises(InvalidResponseError) as caught:
        service.call(service.resolve_name("get_account_balance"), {})

    message = str(caught.value)
    assert "balance" in message
    assert "not JSON" not in message


def test_resolve_path_work_account_credentials(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/account").respond(200, json=load_fixture("account.json"))

    target = service.resolve_path("integrations.clicksend.work.get_account_balance")
    service.call(target, {})

    request = api.calls.last.request
    assert target.account == "work"
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == WORK_USERNAME


# SMS -------------------------------------------------------------------------------------------


def test_send_sms_request(api: respx.MockRouter, service: ClickSendService) -> None:
    messages = [
        {"to": "+61411111111", "body": "Bread is ready for pickup", "custom_string": "order-1107"},
        {"to": "+61422222222", "body": "Bread is ready for pickup", "from": "Bakery", "custom_string": "order-1108"},
    ]
    api.post("/sms/send").respond(200, json=load_fixture("sms_send_success.json"))

    service.call(service.resolve_name("sms"), {"messages": messages})

    assert requested_paths(api) == ["POST /v3/sms/send"]
    request = api.calls.last.request
    assert query_params(request) == {}
    assert json_body(request) == {"messages": messages}
    assert request.headers["Content-Type"] == "application/json"
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME


def test_send_sms_result(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/sms/send").respond(200, json=load_fixture("sms_send_success.json"))

    result = service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "hi"}]})

    assert result["response_code"] == "SUCCESS"
    assert result["data"]["queued_count"] == 2
    assert result["refused"] == []


def test_send_sms_short_and_tool_name_same_request(api: respx.MockRouter, service: ClickSendService) -> None:
    arguments = {"messages": [{"to": "+61411111111", "body": "hi"}]}
    route = api.post("/sms/send").respond(200, json=load_fixture("sms_send_success.json"))

    by_short_name = service.call(service.resolve_path("integrations.clicksend.sms"), arguments)
    by_tool_name = service.call(service.resolve_path("integrations.clicksend.default.clicksend_send_sms"), arguments)

    assert route.call_count == 2
    assert json_body(route.calls[0].request) == json_body(route.calls[1].request)
    assert by_short_name["response_code"] == "SUCCESS"
    assert by_tool_name["response_code"] == "SUCCESS"


def test_send_sms_partial_refusal(api: respx.MockRouter, service: ClickSendService) -> None:
    messages = [
        {"to": "+61411111111", "body": "Oven repair booked for Monday"},
        {"to": "+61299999999", "body": "Oven repair booked for Monday"},
    ]
    api.post("/sms/send").respond(200, json=load_fixture("sms_send_partial.json"))

    result = service.call(service.resolve_name("sms"), {"messages": messages})

    refused = result["refused"]
    assert [{key: value for key, value in item.items() if key != "reason"} for item in refused] == [
        {"index": 2, "to": "+61299999999", "status": "INVALID_RECIPIENT"}
    ]
    assert isinstance(refused[0]["reason"], str)
    assert refused[0]["reason"].strip() != ""
    assert result["response_code"] == "SUCCESS"


def test_send_sms_all_refused_raises(api: respx.MockRouter, service: ClickSendService) -> None:
    messages = [
        {"to": "+61299999999", "body": "Closing early today"},
        {"to": "+447777777777", "body": "Closing early today"},
    ]
    api.post("/sms/send").respond(200, json=load_fixture("sms_send_all_refused.json"))

    with pytest.raises(MessagesRefusedError) as caught:
        service.call(service.resolve_name("sms"), {"messages": messages})

    message = str(caught.value)
    assert "INVALID_RECIPIENT" in message
    assert "COUNTRY_NOT_ENABLED" in message
    assert "clicksend_send_sms" in message
    assert [item["status"] for item in caught.value.refused] == ["INVALID_RECIPIENT", "COUNTRY_NOT_ENABLED"]


def test_send_sms_missing_body_sends_nothing(api: respx.MockRouter, service: ClickSendService) -> None:
    arguments = {"messages": [{"to": "+61411111111", "body": "ok"}, {"to": "+61422222222"}]}

    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("sms"), arguments)

    message = str(caught.value)
    assert "messages[2].body" in message
    assert "clicksend_send_sms" in message
    assert api.calls.call_count == 0


def test_get_sms_price_request(api: respx.MockRouter, service: ClickSendService) -> None:
    messages = [{"to": "+61433333333", "body": "A long note that needs two parts", "country": "AU"}]
    api.post("/sms/price").respond(200, json=load_fixture("sms_price.json"))

    service.call(service.resolve_name("get_sms_price"), {"messages": messages})

    assert requested_paths(api) == ["POST /v3/sms/price"]
    request = api.calls.last.request
    assert query_params(request) == {}
    assert json_body(request) == {"messages": messages}
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME


def test_get_sms_price_result(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/sms/price").respond(200, json=load_fixture("sms_price.json"))

    result = service.call(service.resolve_name("get_sms_price"), {"messages": [{"to": "+61433333333", "body": "x"}]})

    assert result["data"]["total_price"] == 0.1542
    assert result["data"]["messages"][0]["message_parts"] == 2
    assert result["refused"] == []


def test_get_sms_price_all_refused_returns(api: respx.MockRouter, service: ClickSendService) -> None:
    # Pricing sends nothing, so rejected messages are listed in `refused` and no error is raised.
    messages = [{"to": "+61299999999", "body": "x"}, {"to": "+447777777777", "body": "x"}]
    api.post("/sms/price").respond(200, json=load_fixture("sms_send_all_refused.json"))

    result = service.call(service.resolve_name("get_sms_price"), {"messages": messages})

    assert [item["index"] for item in result["refused"]] == [1, 2]


# Voice -----------------------------------------------------------------------------------------


def test_send_voice_fills_voice_and_lang(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/voice/send").respond(200, json=load_fixture("voice_send.json"))

    service.call(
        service.resolve_name("voice"),
        {"messages": [{"to": "+61444444444", "body": "Your booking code is 4, 7, 1, 9.", "custom_string": "booking-88"}]},
    )

    assert requested_paths(api) == ["POST /v3/voice/send"]
    request = api.calls.last.request
    assert query_params(request) == {}
    assert json_body(request) == {
        "messages": [
            {
                "to": "+61444444444",
                "body": "Your booking code is 4, 7, 1, 9.",
                "custom_string": "booking-88",
                "voice": "female",
                "lang": "en-us",
            }
        ]
    }
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME


def test_send_voice_keeps_given_voice_and_flags(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/voice/send").respond(200, json=load_fixture("voice_send.json"))

    result = service.call(
        service.resolve_name("clicksend_send_voice"),
        {
            "messages": [
                {"to": "+61444444444", "body": "Press 1 to confirm.", "voice": "male", "lang": "en-au", "require_input": True}
            ]
        },
    )

    assert json_body(api.calls.last.request) == {
        "messages": [
            {"to": "+61444444444", "body": "Press 1 to confirm.", "voice": "male", "lang": "en-au", "require_input": 1}
        ]
    }
    assert result["refused"] == []


def test_send_voice_male_only_language_default(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/voice/send").respond(200, json=load_fixture("voice_send.json"))

    service.call(service.resolve_name("voice"), {"messages": [{"to": "+61444444444", "body": "Olá", "lang": "pt-pt"}]})

    assert json_body(api.calls.last.request)["messages"][0]["voice"] == "male"


# Email -----------------------------------------------------------------------------------------


def test_send_email_request(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/email/addresses").respond(200, json=load_fixture("email_addresses.json"))
    api.post("/email/send").respond(200, json=load_fixture("email_send.json"))

    service.call(
        service.resolve_name("email"),
        {"to": "test1@test.com", "subject": "Your order", "body": "<p>Your loaf is ready.</p>", "from_email_address": VERIFIED_SENDER},
    )

    assert requested_paths(api) == ["GET /v3/email/addresses", "POST /v3/email/send"]
    lookup, send = (call.request for call in api.calls)
    assert query_params(lookup) == {"page": "1", "limit": "100"}
    assert basic_auth_username(lookup) == DEFAULT_USERNAME
    assert query_params(send) == {}
    assert json_body(send) == {
        "to": [{"email": "test1@test.com"}],
        "from": {"email_address_id": VERIFIED_SENDER_ID},
        "subject": "Your order",
        "body": "<p>Your loaf is ready.</p>",
    }
    assert "from_email_address" not in json_body(send)
    assert auth_scheme(send) == "Basic"
    assert basic_auth_username(send) == DEFAULT_USERNAME


def test_send_email_result(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/email/addresses").respond(200, json=load_fixture("email_addresses.json"))
    api.post("/email/send").respond(200, json=load_fixture("email_send.json"))

    result = service.call(service.resolve_name("email"), {"to": "test1@test.com", "subject": "Hi", "body": "<p>Hi</p>"})

    assert result["response_code"] == "SUCCESS"
    assert result["data"]["status"] == "WaitApproval"


def test_send_email_names_only_when_given(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/email/addresses").respond(200, json=load_fixture("email_addresses.json"))
    api.post("/email/send").respond(200, json=load_fixture("email_send.json"))

    service.call(
        service.resolve_name("email"),
        {
            "to": [{"email": "test2@test.com", "name": "Sam Lee"}, "test3@test.com"],
            "cc": {"email": "test1@test.com"},
            "subject": "Receipt",
            "body": "<p>Receipt attached.</p>",
            "from_name": "Harbour Lights",
        },
    )

    body = json_body(api.calls.last.request)
    assert body["to"] == [{"email": "test2@test.com", "name": "Sam Lee"}, {"email": "test3@test.com"}]
    assert body["cc"] == [{"email": "test1@test.com"}]
    assert body["from"] == {"email_address_id": VERIFIED_SENDER_ID, "name": "Harbour Lights"}


def test_send_email_unknown_sender_sends_nothing(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/email/addresses").respond(200, json=load_fixture("email_addresses.json"))

    with pytest.raises(ArgumentError) as caught:
        service.call(
            service.resolve_name("email"),
            {"to": "test1@test.com", "subject": "Hi", "body": "<p>Hi</p>", "from_email_address": "nobody@example.com"},
        )

    message = str(caught.value)
    assert "nobody@example.com" in message
    assert VERIFIED_SENDER in message
    assert requested_paths(api) == ["GET /v3/email/addresses"]


def test_send_email_unverified_sender_sends_nothing(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/email/addresses").respond(200, json=load_fixture("email_addresses.json"))

    with pytest.raises(ArgumentError) as caught:
        service.call(
            service.resolve_name("email"),
            {"to": "test1@test.com", "subject": "Hi", "body": "<p>Hi</p>", "from_email_address": UNVERIFIED_SENDER},
        )

    message = str(caught.value)
    assert UNVERIFIED_SENDER in message
    assert "not verified" in message
    assert VERIFIED_SENDER in message
    assert requested_paths(api) == ["GET /v3/email/addresses"]


# Post letters ----------------------------------------------------------------------------------


def test_send_post_letter_request(api: respx.MockRouter, service: ClickSendService) -> None:
    short_recipient = {
        "name": "Ada Example",
        "address": "1 Test Street",
        "city": "Perth",
        "state": "WA",
        "postal_code": "11111",
        "country": "AU",
    }
    api.get("/post/return-addresses").respond(200, json=load_fixture("return_addresses.json"))
    api.post("/post/letters/send").respond(200, json=load_fixture("letter_send.json"))

    service.call(
        service.resolve_name("post_letter"),
        {"file_url": "https://example.com/letter.pdf", "recipients": [short_recipient]},
    )

    assert requested_paths(api) == ["GET /v3/post/return-addresses", "POST /v3/post/letters/send"]
    lookup, send = (call.request for call in api.calls)
    assert query_params(lookup) == {"page": "1", "limit": "100"}
    assert basic_auth_username(lookup) == DEFAULT_USERNAME
    assert query_params(send) == {}
    assert json_body(send) == {
        "file_url": "https://example.com/letter.pdf",
        "template_used": 0,
        "duplex": 0,
        "colour": 0,
        "priority_post": 0,
        "recipients": [
            {
                "address_name": "Ada Example",
                "address_line_1": "1 Test Street",
                "address_city": "Perth",
                "address_state": "WA",
                "address_postal_code": "11111",
                "address_country": "AU",
                "return_address_id": FIRST_RETURN_ADDRESS_ID,
            }
        ],
    }
    assert set(short_recipient).isdisjoint(json_body(send)["recipients"][0])
    assert auth_scheme(send) == "Basic"
    assert basic_auth_username(send) == DEFAULT_USERNAME


def test_send_post_letter_result(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/post/return-addresses").respond(200, json=load_fixture("return_addresses.json"))
    api.post("/post/letters/send").respond(200, json=load_fixture("letter_send.json"))

    result = service.call(
        service.resolve_name("post_letter"),
        {
            "file_url": "https://example.com/letter.pdf",
            "recipients": [
                {
                    "address_name": "Ada Example",
                    "address_line_1": "1 Test Street",
                    "address_city": "Perth",
                    "address_state": "WA",
                    "address_postal_code": "11111",
                    "address_country": "AU",
                }
            ],
        },
    )

    assert result["data"]["queued_count"] == 1
    assert result["refused"] == []


def test_send_post_letter_template_id_sets_flag(api: respx.MockRouter, service: ClickSendService) -> None:
    # A top-level return_address_id means no lookup of the account's return addresses.
    api.post("/post/letters/send").respond(200, json=load_fixture("letter_send.json"))

    service.call(
        service.resolve_name("clicksend_send_post_letter"),
        {
            "file_url": "https://example.com/letter.pdf",
            "template_id": 12,
            "return_address_id": 58,
            "duplex": True,
            "recipients": [
                {
                    "address_name": "Ada Example",
                    "address_line_1": "1 Test Street",
                    "address_city": "Perth",
                    "address_state": "WA",
                    "address_postal_code": "11111",
                    "address_country": "au",
                }
            ],
        },
    )

    assert requested_paths(api) == ["POST /v3/post/letters/send"]
    body = json_body(api.calls.last.request)
    assert "template_id" not in body
    assert body["template_used"] == 1
    assert body["duplex"] == 1
    assert body["recipients"][0]["return_address_id"] == 58
    assert body["recipients"][0]["address_country"] == "AU"


_ADDRESS = {
    "address_line_1": "1 Test Street",
    "address_city": "Perth",
    "address_state": "WA",
    "address_postal_code": "11111",
    "address_country": "AU",
}


@pytest.mark.parametrize(
    "names",
    [{"address_name": "Ada Example", "name": "Ada"}, {"name": "Ada", "address_name": "Ada Example"}],
    ids=["long_form_first", "short_form_first"],
)
def test_send_post_letter_both_name_forms_sends_nothing(
    api: respx.MockRouter, service: ClickSendService, names: dict[str, str]
) -> None:
    recipient = {**names, **_ADDRESS}

    with pytest.raises(ArgumentError) as caught:
        service.call(
            service.resolve_name("post_letter"),
            {"file_url": "https://example.com/letter.pdf", "recipients": [recipient]},
        )

    message = str(caught.value)
    assert "recipients[1]" in message
    assert re.search(r"\bname\b", message)
    assert "address_name" in message
    assert api.calls.call_count == 0


# History and lists -----------------------------------------------------------------------------


def test_get_sms_history_dates_become_unix_seconds(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/sms/history").respond(200, json=load_fixture("sms_history.json"))

    service.call(service.resolve_name("get_sms_history"), {"date_from": "2026-11-01", "date_to": "2026-11-30"})

    assert requested_paths(api) == ["GET /v3/sms/history"]
    request = api.calls.last.request
    assert query_params(request) == {"date_from": "1793491200", "date_to": "1796083199", "page": "1"}
    assert request.content == b""
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME


def test_get_sms_history_invalid_date_sends_nothing(api: respx.MockRouter, service: ClickSendService) -> None:
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("get_sms_history"), {"date_from": "last tuesday"})

    message = str(caught.value)
    assert "date_from" in message
    assert "YYYY-MM-DD" in message
    assert api.calls.call_count == 0


def test_get_sms_history_reversed_dates_send_nothing(api: respx.MockRouter, service: ClickSendService) -> None:
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("get_sms_history"), {"date_from": "2026-11-30", "date_to": "2026-11-01"})

    assert "date_from" in str(caught.value)
    assert api.calls.call_count == 0


def test_get_sms_history_page_and_limit(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/sms/history").respond(200, json=load_fixture("sms_history.json"))

    result = service.call(service.resolve_name("get_sms_history"), {"page": 2, "limit": 20})

    assert query_params(api.calls.last.request) == {"page": "2", "limit": "20"}
    assert result["data"] == load_fixture("sms_history.json")["data"]


def test_get_sms_history_small_limit_trims_page(api: respx.MockRouter, service: ClickSendService) -> None:
    fixture_rows = load_fixture("sms_history.json")["data"]["data"]
    api.get("/sms/history").respond(200, json=load_fixture("sms_history.json"))

    result = service.call(service.resolve_name("get_sms_history"), {"limit": 5})

    assert requested_paths(api) == ["GET /v3/sms/history"]
    assert query_params(api.calls.last.request) == {"page": "1", "limit": "15"}
    page = result["data"]
    assert len(page["data"]) == 5
    assert page["per_page"] == 5
    assert [row["message_id"] for row in page["data"]] == [row["message_id"] for row in fixture_rows[:5]]
    assert page["current_page"] == 1
    assert page["last_page"] == 2
    assert page["from"] == 1
    assert page["to"] == 5


def test_get_sms_history_small_limit_second_page(api: respx.MockRouter, service: ClickSendService) -> None:
    fixture_rows = load_fixture("sms_history.json")["data"]["data"]
    api.get("/sms/history").respond(200, json=load_fixture("sms_history.json"))

    result = service.call(service.resolve_name("get_sms_history"), {"limit": 5, "page": 2})

    assert query_params(api.calls.last.request) == {"page": "1", "limit": "15"}
    page = result["data"]
    assert [row["message_id"] for row in page["data"]] == [row["message_id"] for row in fixture_rows[5:7]]
    assert page["from"] == 6
    assert page["to"] == 7
    assert page["next_page_url"] is None


def test_get_email_history_request(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/email/history").respond(200, json=load_fixture("email_history.json"))

    result = service.call(service.resolve_name("get_email_history"), {"page": 1, "limit": 15})

    assert requested_paths(api) == ["GET /v3/email/history"]
    request = api.calls.last.request
    assert query_params(request) == {"page": "1", "limit": "15"}
    assert request.content == b""
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME
    assert result["data"]["data"][0]["subject"] == "Receipt"


def test_get_voice_history_request(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/voice/history").respond(200, json=load_fixture("voice_history.json"))

    result = service.call(
        service.resolve_name("get_voice_history"), {"date_from": 1793491200, "page": 3, "limit": 100}
    )

    assert requested_paths(api) == ["GET /v3/voice/history"]
    request = api.calls.last.request
    assert query_params(request) == {"date_from": "1793491200", "page": "3", "limit": "100"}
    assert request.content == b""
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME
    assert result["data"]["data"][0]["status"] == "Sent"


def test_list_contact_lists_request(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/lists").respond(200, json=load_fixture("lists.json"))

    result = service.call(service.resolve_name("list_contact_lists"), {"page": 1, "limit": 50})

    assert requested_paths(api) == ["GET /v3/lists"]
    request = api.calls.last.request
    assert query_params(request) == {"page": "1", "limit": "50"}
    assert request.content == b""
    assert auth_scheme(request) == "Basic"
    assert basic_auth_username(request) == DEFAULT_USERNAME
    assert [row["list_id"] for row in result["data"]["data"]] == [901, 902]


# Errors ----------------------------------------------------------------------------------------


def assert_no_api_key(text: str) -> None:
    for key in API_KEYS:
        assert key not in text


def test_request_401_raises_authentication_error(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/account").respond(401, json=load_fixture("error_401.json"))

    with pytest.raises(AuthenticationError) as caught:
        service.call(service.resolve_path("integrations.clicksend.work.get_account_balance"), {})

    error = caught.value
    assert error.status == 401
    assert error.response_code == "UNAUTHORIZED"
    assert error.response_msg == "Authorization failed."
    assert "HTTP 401" in str(error)
    assert_no_api_key(str(error))


def test_request_404_raises_api_error(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/lists").respond(404, json=load_fixture("error_404.json"))

    with pytest.raises(ApiError) as caught:
        service.call(service.resolve_name("list_contact_lists"), {})

    error = caught.value
    assert type(error) is ApiError
    assert error.status == 404
    assert error.response_code == "NOT_FOUND"
    assert_no_api_key(str(error))


def test_request_400_message_lists_fields(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/sms/send").respond(400, json=load_fixture("error_400_fields.json"))

    with pytest.raises(ApiError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "hi"}]})

    message = str(caught.value)
    assert caught.value.status == 400
    assert "messages.0.body: The body field is required." in message
    assert "messages.0.to: The to field must be a phone number." in message
    assert_no_api_key(message)


def test_request_429_reads_retry_after(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/account").respond(429, json=load_fixture("error_429.json"), headers={"Retry-After": "20"})

    with pytest.raises(RateLimitError) as caught:
        service.call(service.resolve_name("get_account_balance"), {})

    assert caught.value.status == 429
    assert caught.value.retry_after == 20
    assert_no_api_key(str(caught.value))


def test_request_502_html_raises_invalid_response(api: respx.MockRouter, service: ClickSendService) -> None:
    html = (FIXTURES / "html_502.html").read_text(encoding="utf-8")
    api.get("/account").respond(502, text=html, headers={"Content-Type": "text/html"})

    with pytest.raises(InvalidResponseError) as caught:
        service.call(service.resolve_name("get_account_balance"), {})

    message = str(caught.value)
    assert caught.value.status == 502
    assert "HTTP 502" in message
    assert "<html> <head><title>502 Bad Gateway</title>" in message
    assert_no_api_key(message)


def test_request_connect_error_not_sent(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/sms/send").mock(side_effect=httpx.ConnectError)

    with pytest.raises(TransportError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "hi"}]})

    assert caught.value.sent is False
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert_no_api_key(str(caught.value))


def test_request_connect_timeout_not_sent(api: respx.MockRouter, service: ClickSendService) -> None:
    api.get("/account").mock(side_effect=httpx.ConnectTimeout)

    with pytest.raises(TransportError) as caught:
        service.call(service.resolve_path("integrations.clicksend.work.get_account_balance"), {})

    assert caught.value.sent is False
    assert_no_api_key(str(caught.value))


def test_request_read_timeout_may_be_sent(api: respx.MockRouter, service: ClickSendService) -> None:
    api.post("/sms/send").mock(side_effect=httpx.ReadTimeout)

    with pytest.raises(TransportError) as caught:
        service.call(service.resolve_path("integrations.clicksend.work.sms"), {"messages": [{"to": "+61411111111", "body": "hi"}]})

    message = str(caught.value)
    assert caught.value.sent is True
    assert "timed out" in message
    assert_no_api_key(message)


# repr ------------------------------------------------------------------------------------------


def test_client_repr_hides_api_key(service: ClickSendService) -> None:
    for alias in ("default", "work"):
        assert_no_api_key(repr(service.client(alias)))


def test_service_repr_hides_api_key(service: ClickSendService) -> None:
    assert_no_api_key(repr(service))


def test_account_repr_hides_api_key() -> None:
    text = repr(Account("work", WORK_USERNAME, "KEY-work"))

    assert_no_api_key(text)
    assert WORK_USERNAME in text
