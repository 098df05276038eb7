"""Conformance test: ClickSend's official Python SDK (clicksend-client 6.0.2) talks to
``simulator serve`` on 127.0.0.1 and reads every response with its own models.

The SDK is generated from the same OpenAPI spec as the contract test. Where its strict pydantic
models reject a shape that ClickSend documents or was observed to send, the test records that
rejection instead of changing the simulator. One case is known: a refused message carries
``schedule: ""`` in an observed ClickSend response, but SDK 6.0.2 types that field as an integer.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import clicksend
import pydantic
import pytest

from kosmo_clicksend.simulator import Simulator
from kosmo_clicksend.simulator.server import SimulatorServer


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every outgoing connection and refuse any to a host other than 127.0.0.1."""
    addresses: list[Any] = []
    original_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> None:
        addresses.append(address)
        host = address[0] if isinstance(address, tuple) else address
        if host != "127.0.0.1":
            raise ConnectionRefusedError(f"the SDK tried to reach {host!r}; only 127.0.0.1 is allowed")
        original_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return addresses


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    simulator = Simulator(seed=5)
    with SimulatorServer(simulator, host="127.0.0.1", port=0) as running:
        yield running
    simulator.close()


@pytest.fixture
def api_client(server: SimulatorServer, connections: list[Any]) -> Iterator[clicksend.ApiClient]:
    configuration = clicksend.Configuration(host=server.url, username="sdk-user", password="sdk-key")
    with clicksend.ApiClient(configuration) as client:
        yield client


def sms_message(to: str, body: str) -> clicksend.SendSmsRequestMessagesInner:
    return clicksend.SendSmsRequestMessagesInner(to=to, body=body, source="sdk-conformance")


def test_sdk_configuration_points_at_loopback(api_client: clicksend.ApiClient, server: SimulatorServer) -> None:
    assert api_client.configuration.host == server.url
    assert server.url.startswith("http://127.0.0.1:")


def test_sdk_send_sms(api_client: clicksend.ApiClient, connections: list[Any]) -> None:
    request = clicksend.SendSmsRequest(messages=[sms_message("+61411111111", "Hello from the SDK")])
    result = clicksend.SmsApi(api_client).send_sms(send_sms_request=request)
    message = result.data.messages[0]
    assert result.http_code == 200
    assert result.response_code == "SUCCESS"
    assert result.data.queued_count == 1
    assert result.data.blocked_count == 0
    assert message.status == "SUCCESS"
    assert message.to == "+61411111111"
    assert message.message_price == "0.0000"
    assert result.data.currency.currency_name_short == "AUD"
    assert connections
    assert {address[0] for address in connections} == {"127.0.0.1"}


def test_sdk_calculate_sms_price(api_client: clicksend.ApiClient) -> None:
    messages = [
        clicksend.CalculateSmsPriceRequestMessagesInner(to="+61412345678", body="a" * 150),
        clicksend.CalculateSmsPriceRequestMessagesInner(to="+61412345678", body="a" * 149 + "\u2019"),
    ]
    result = clicksend.SmsApi(api_client).calculate_sms_price(
        calculate_sms_price_request=clicksend.CalculateSmsPriceRequest(messages=messages)
    )
    gsm, unicode = result.data.messages
    assert result.data.total_count == 2
    assert gsm.message_parts == 1
    assert unicode.message_parts == 3
    assert float(unicode.message_price) == pytest.approx(3 * float(gsm.message_price))


def test_sdk_view_account_details(api_client: clicksend.ApiClient) -> None:
    result = clicksend.ManagementApi(api_client).view_account_details()
    assert result.data.username == "sdk-user"
    assert result.data.balance == "20.000000"
    assert result.data.currency.currency_name_short == "AUD"
    assert result.data.subaccount.api_key == "<redacted>"


def test_sdk_view_sms_history_after_send(api_client: clicksend.ApiClient) -> None:
    sms = clicksend.SmsApi(api_client)
    sent = [sms_message("+61422222222", f"history {number}") for number in range(20)]
    sms.send_sms(send_sms_request=clicksend.SendSmsRequest(messages=sent))
    first = sms.view_sms_history(page=1, limit=15)
    second = sms.view_sms_history(page=2, limit=15)
    assert first.data.total == 20
    assert first.data.last_page == 2
    assert len(first.data.data) == 15
    assert first.data.next_page_url.endswith("/v3/sms/history?page=2")
    assert second.data.var_from == 16
    assert second.data.to == 20
    assert second.data.data[-1].body == "history 19"
    assert second.data.data[-1].api_username == "sdk-user"


def test_sdk_view_sms_history_search(api_client: clicksend.ApiClient) -> None:
    sms = clicksend.SmsApi(api_client)
    messages = [sms_message("+61411111111", "one"), sms_message("+61433333333", "two")]
    sms.send_sms(send_sms_request=clicksend.SendSmsRequest(messages=messages))
    result = sms.view_sms_history(q="to:+61433333333", order_by="date:desc")
    assert result.data.total == 1
    assert result.data.data[0].body == "two"


def test_sdk_wrong_key_raises_unauthorized(server: SimulatorServer, connections: list[Any]) -> None:
    with clicksend.ApiClient(clicksend.Configuration(host=server.url, username="sdk-user", password="sdk-key")) as client:
        clicksend.ManagementApi(client).view_account_details()
    configuration = clicksend.Configuration(host=server.url, username="sdk-user", password="other-key")
    with clicksend.ApiClient(configuration) as client:
        with pytest.raises(clicksend.exceptions.UnauthorizedException) as caught:
            clicksend.ManagementApi(client).view_account_details()
    assert caught.value.status == 401
    assert json.loads(caught.value.body)["response_code"] == "UNAUTHORIZED"


def test_sdk_model_rejects_refused_message_schedule(api_client: clicksend.ApiClient) -> None:
    # ClickSend responds to a partly refused send with HTTP 200 and schedule "" on each refused
    # message. SDK 6.0.2 types that field as an integer, so its model cannot read the response.
    messages = [sms_message("+61411111111", "kept"), sms_message("+610", "refused")]
    request = clicksend.SendSmsRequest(messages=messages)
    sms = clicksend.SmsApi(api_client)
    with pytest.raises(pydantic.ValidationError) as caught:
        sms.send_sms(send_sms_request=request)
    raw = sms.send_sms_without_preload_content(send_sms_request=request)
    envelope = json.loads(raw.data)
    refused = envelope["data"]["messages"][1]
    assert "schedule" in str(caught.value)
    assert raw.status == 200
    assert refused["status"] == "INVALID_RECIPIENT"
    assert refused["schedule"] == ""
