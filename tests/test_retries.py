"""Retries: reads and prices retry on transient failures; sends never go out twice."""

from __future__ import annotations

import httpx
import pytest
import respx

from kosmo_clicksend.client import ClickSendClient, RetryPolicy
from kosmo_clicksend.errors import ApiError, RateLimitError, TransportError

BASE_URL = "https://rest.clicksend.com/v3"
OK = {"http_code": 200, "response_code": "SUCCESS", "response_msg": "ok", "data": {"balance": "1.0"}}
BUSY = {"http_code": 429, "response_code": "TOO_MANY_REQUESTS", "response_msg": "Too many requests", "data": None}
BROKEN = {"http_code": 500, "response_code": "INTERNAL_SERVER_ERROR", "response_msg": "Oops", "data": None}


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(waits):
    with ClickSendClient("user", "KEY-retries", retry=RetryPolicy(attempts=4), sleep=waits.append) as made:
        yield made


@pytest.fixture
def api():
    with respx.mock(base_url=BASE_URL) as router:
        yield router


def test_get_retries_after_500_then_succeeds(api, client, waits):
    route = api.get("/account").mock(side_effect=[httpx.Response(500, json=BROKEN), httpx.Response(200, json=OK)])
    assert client.request("t", "GET", "/account")["response_code"] == "SUCCESS"
    assert route.call_count == 2
    assert len(waits) == 1


def test_get_retries_after_html_502(api, client, waits):
    route = api.get("/account").mock(side_effect=[httpx.Response(502, text="<html>bad gateway</html>"), httpx.Response(200, json=OK)])
    client.request("t", "GET", "/account")
    assert route.call_count == 2


def test_get_retries_after_read_timeout(api, client):
    route = api.get("/account").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=OK)])
    client.request("t", "GET", "/account")
    assert route.call_count == 2


def test_retries_are_bounded(api, client, waits):
    route = api.get("/account").respond(500, json=BROKEN)
    with pytest.raises(ApiError):
        client.request("t", "GET", "/account")
    assert route.call_count == 4
    assert len(waits) == 3


def test_backoff_grows_and_stays_bounded(api, waits):
    with ClickSendClient("u", "k", retry=RetryPolicy(attempts=8, base_delay=1.0, max_delay=4.0), sleep=waits.append) as client:
        api.get("/account").respond(503, json=BROKEN)
        with pytest.raises(ApiError):
            client.request("t", "GET", "/account")
    assert len(waits) == 7
    assert all(0.5 <= wait <= 4.0 for wait in waits)
    assert waits[0] <= 1.0
    assert max(waits) > 1.0


def test_429_waits_retry_after(api, client, waits):
    api.get("/account").mock(
        side_effect=[httpx.Response(429, json=BUSY, headers={"Retry-After": "3"}), httpx.Response(200, json=OK)]
    )
    client.request("t", "GET", "/account")
    assert waits == [3.0]


def test_long_retry_after_is_not_waited(api, client, waits):
    api.get("/account").respond(429, json=BUSY, headers={"Retry-After": "600"})
    with pytest.raises(RateLimitError) as caught:
        client.request("t", "GET", "/account")
    assert caught.value.retry_after == 600
    assert waits == []


def test_price_post_retries_after_500(api, client):
    route = api.post("/sms/price").mock(side_effect=[httpx.Response(500, json=BROKEN), httpx.Response(200, json=OK)])
    client.request("t", "POST", "/sms/price", body={"messages": []}, idempotent=True)
    assert route.call_count == 2


def test_send_is_not_retried_after_500(api, client, waits):
    route = api.post("/sms/send").respond(500, json=BROKEN)
    with pytest.raises(ApiError):
        client.request("t", "POST", "/sms/send", body={"messages": []})
    assert route.call_count == 1
    assert waits == []


def test_send_is_not_retried_after_read_timeout(api, client):
    route = api.post("/sms/send").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransportError) as caught:
        client.request("t", "POST", "/sms/send", body={"messages": []})
    assert caught.value.sent is True
    assert route.call_count == 1


def test_send_is_not_retried_after_reset(api, client):
    route = api.post("/sms/send").mock(side_effect=httpx.RemoteProtocolError("reset"))
    with pytest.raises(TransportError):
        client.request("t", "POST", "/sms/send", body={"messages": []})
    assert route.call_count == 1


def test_send_is_retried_when_connection_refused(api, client):
    route = api.post("/sms/send").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=OK)])
    client.request("t", "POST", "/sms/send", body={"messages": []})
    assert route.call_count == 2


def test_send_is_retried_after_429(api, client, waits):
    route = api.post("/sms/send").mock(
        side_effect=[httpx.Response(429, json=BUSY, headers={"Retry-After": "1"}), httpx.Response(200, json=OK)]
    )
    client.request("t", "POST", "/sms/send", body={"messages": []})
    assert route.call_count == 2
    assert waits == [1.0]


def test_client_errors_are_not_retried(api, client):
    route = api.get("/account").respond(404, json={"http_code": 404, "response_code": "NOT_FOUND", "response_msg": "No", "data": None})
    with pytest.raises(ApiError):
        client.request("t", "GET", "/account")
    assert route.call_count == 1
