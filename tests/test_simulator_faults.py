"""Tests of the simulator's faults on demand, rate limit, control API and scenario files, in-process."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kosmo_clicksend.client import ClickSendClient
from kosmo_clicksend.errors import InvalidResponseError, RateLimitError, TransportError
from kosmo_clicksend.simulator import SimRequest, Simulator, SimulatorTransport
from kosmo_clicksend.simulator.faults import (
    FaultRule,
    RateLimitSettings,
    ScenarioError,
    load_scenario,
    make_fault,
    parse_fault_header,
)
from fakes import FakeClock

SEND_BODY = {"messages": [{"to": "+61412345678", "body": "fault test"}]}



@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def http(sim: Simulator, sleeps: list[float]) -> Iterator[httpx.Client]:
    transport = SimulatorTransport(sim, sleep=sleeps.append)
    with httpx.Client(transport=transport, base_url="https://rest.clicksend.com/v3", auth=("user", "key")) as client:
        yield client


def control(sim: Simulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    response = sim.handle(SimRequest(method, path, {}, {}, raw))
    return response.status, json.loads(response.body)


def auth_header(username: str = "user", api_key: str = "key") -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{username}:{api_key}".encode()).decode()}


# Faults chosen by header


@pytest.mark.parametrize(
    ("kind", "exception"),
    [
        ("connection_reset", httpx.ReadError),
        ("read_timeout", httpx.ReadTimeout),
        ("response_lost", httpx.RemoteProtocolError),
    ],
)
def test_transport_fault_header_raises_httpx_error(http: httpx.Client, kind: str, exception: type[Exception]) -> None:
    with pytest.raises(exception):
        http.post("/sms/send", json=SEND_BODY, headers={"X-Simulator-Fault": kind})


@pytest.mark.parametrize("kind", ["connection_reset", "read_timeout", "http_500", "http_502", "malformed_json"])
def test_fault_before_account_records_nothing(http: httpx.Client, sim: Simulator, kind: str) -> None:
    http.get("/account")
    try:
        http.post("/sms/send", json=SEND_BODY, headers={"X-Simulator-Fault": kind})
    except httpx.HTTPError:
        pass
    state = sim.account_state("user")
    assert state["sms_count"] == 0
    assert state["balance"] == "20.000000"


def test_response_lost_commits_send(http: httpx.Client, sim: Simulator) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/sms/send", json=SEND_BODY, headers={"X-Simulator-Fault": "response_lost"})
    state = sim.account_state("user")
    assert state["sms_count"] == 1
    assert state["balance"] == "19.920800"


def test_http_500_fault_is_clicksend_envelope(http: httpx.Client) -> None:
    response = http.get("/account", headers={"X-Simulator-Fault": "http_500"})
    assert response.status_code == 500
    assert response.json()["response_code"] == "INTERNAL_SERVER_ERROR"
    assert response.json()["http_code"] == 500


def test_http_502_fault_has_html_body(http: httpx.Client) -> None:
    response = http.get("/account", headers={"X-Simulator-Fault": "http_502"})
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert b"<h1>502 Bad Gateway</h1>" in response.content


def test_malformed_json_fault_fails_to_parse(http: httpx.Client) -> None:
    response = http.get("/account", headers={"X-Simulator-Fault": "malformed_json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_latency_fault_sleeps_then_answers(http: httpx.Client, sleeps: list[float]) -> None:
    response = http.get("/account", headers={"X-Simulator-Fault": "latency=2.5"})
    assert response.status_code == 200
    assert sleeps == [2.5]


def test_latency_fault_default_delay(http: httpx.Client, sleeps: list[float]) -> None:
    http.get("/account", headers={"X-Simulator-Fault": "latency"})
    assert sleeps == [1.0]


def test_fault_header_unknown_kind_is_400(http: httpx.Client) -> None:
    response = http.get("/account", headers={"X-Simulator-Fault": "meteor"})
    assert response.status_code == 400
    assert "meteor" in response.json()["response_msg"]


@pytest.mark.parametrize("value", ["latency=soon", "latency=-1", "latency=nan", "read_timeout=99999"])
def test_fault_header_bad_delay_raises(value: str) -> None:
    with pytest.raises(ScenarioError):
        parse_fault_header(value)


# Faults chosen by rule


def test_fault_rule_fires_count_times_after_skip(http: httpx.Client, sim: Simulator) -> None:
    sim.faults.add(FaultRule(make_fault("http_500"), method="GET", path="/v3/account", count=2, skip=1))
    statuses = [http.get("/account").status_code for _ in range(5)]
    assert statuses == [200, 500, 500, 200, 200]
    assert sim.faults.rules() == []


def test_fault_rule_matches_path_pattern_and_method(http: httpx.Client, sim: Simulator) -> None:
    sim.faults.add(FaultRule(make_fault("http_502"), method="POST", path="/v3/sms/*", count=None))
    assert http.get("/sms/history").status_code == 200
    assert http.post("/sms/price", json=SEND_BODY).status_code == 502
    assert http.post("/sms/send", json=SEND_BODY).status_code == 502
    assert http.post("/voice/price", json=SEND_BODY).status_code == 200


def test_fault_header_wins_over_rule(http: httpx.Client, sim: Simulator) -> None:
    sim.faults.add(FaultRule(make_fault("http_500"), count=None))
    response = http.get("/account", headers={"X-Simulator-Fault": "http_502"})
    assert response.status_code == 502


def test_response_lost_through_client_is_transport_error(sim: Simulator) -> None:
    sim.faults.add(FaultRule(make_fault("response_lost"), method="POST", path="/v3/sms/send"))
    with ClickSendClient("user", "key", transport=SimulatorTransport(sim)) as client:
        with pytest.raises(TransportError) as caught:
            client.request("clicksend_send_sms", "POST", "/sms/send", body=SEND_BODY)
        history = client.request("clicksend_get_sms_history", "GET", "/sms/history")
        account = client.request("clicksend_get_account_balance", "GET", "/account")
    assert caught.value.sent is True
    assert history["data"]["total"] == 1
    assert history["data"]["data"][0]["body"] == "fault test"
    assert account["data"]["balance"] == "19.920800"


def test_http_502_through_client_is_invalid_response(sim: Simulator) -> None:
    sim.faults.add(FaultRule(make_fault("http_502"), method="POST", path="/v3/sms/send", count=None))
    with ClickSendClient("user", "key", transport=SimulatorTransport(sim)) as client:
        client.request("clicksend_get_account_balance", "GET", "/account")
        with pytest.raises(InvalidResponseError) as caught:
            client.request("clicksend_send_sms", "POST", "/sms/send", body=SEND_BODY)
    assert caught.value.status == 502
    assert sim.account_state("user")["sms_count"] == 0


# Rate limit


def test_rate_limit_sixth_request_is_429(clock: FakeClock) -> None:
    with Simulator(clock=clock, rate_limit=RateLimitSettings(5, 10)) as simulator:
        transport = SimulatorTransport(simulator)
        with httpx.Client(transport=transport, base_url="https://rest.clicksend.com/v3", auth=("u", "k")) as http:
            responses = [http.get("/account") for _ in range(6)]
    last = responses[-1]
    assert [response.status_code for response in responses] == [200] * 5 + [429]
    assert last.json()["response_code"] == "TOO_MANY_REQUESTS"
    assert last.json()["http_code"] == 429
    assert last.headers["retry-after"] == "10"
    assert last.headers["x-ratelimit-limit"] == "5"
    assert last.headers["x-ratelimit-remaining"] == "0"
    assert responses[0].headers["x-ratelimit-remaining"] == "4"


def test_rate_limit_retry_after_counts_down(clock: FakeClock) -> None:
    with Simulator(clock=clock, rate_limit=RateLimitSettings(1, 10)) as simulator:
        headers = auth_header()
        simulator.handle(SimRequest("GET", "/v3/account", {}, headers, b""))
        clock.now += 3.5
        refused = simulator.handle(SimRequest("GET", "/v3/account", {}, headers, b""))
        clock.now += 7
        allowed = simulator.handle(SimRequest("GET", "/v3/account", {}, headers, b""))
    assert refused.status == 429
    assert refused.headers["retry-after"] == "7"
    assert allowed.status == 200


def test_rate_limit_is_per_account(clock: FakeClock) -> None:
    with Simulator(clock=clock, rate_limit=RateLimitSettings(1, 60)) as simulator:
        first = simulator.handle(SimRequest("GET", "/v3/account", {}, auth_header("a"), b""))
        second = simulator.handle(SimRequest("GET", "/v3/account", {}, auth_header("b"), b""))
    assert first.status == 200
    assert second.status == 200


def test_rate_limit_through_client_is_rate_limit_error(clock: FakeClock) -> None:
    # A two-minute window gives a Retry-After longer than any client should wait in place.
    with Simulator(clock=clock, rate_limit=RateLimitSettings(1, 120)) as simulator:
        with ClickSendClient("user", "key", transport=SimulatorTransport(simulator)) as client:
            client.request("clicksend_get_account_balance", "GET", "/account")
            with pytest.raises(RateLimitError) as caught:
                client.request("clicksend_get_account_balance", "GET", "/account")
    assert caught.value.retry_after == 120


def test_rate_limit_settings_reject_bad_values() -> None:
    with pytest.raises(ScenarioError):
        RateLimitSettings(0, 10)
    with pytest.raises(ScenarioError):
        RateLimitSettings(5, 0)


# Control API


def test_control_faults_add_list_clear(sim: Simulator) -> None:
    rule = {"kind": "response_lost", "method": "post", "path": "/v3/sms/send", "count": 2}
    added_status, added = control(sim, "POST", "/__simulator/faults", rule)
    _, listed = control(sim, "GET", "/__simulator/faults")
    _, cleared = control(sim, "DELETE", "/__simulator/faults")
    assert added_status == 201
    assert added["fault"]["method"] == "POST"
    assert listed["faults"][0]["count"] == 2
    assert cleared == {"faults": []}


def test_control_fault_unknown_kind_is_400(sim: Simulator) -> None:
    status, body = control(sim, "POST", "/__simulator/faults", {"kind": "flood"})
    assert status == 400
    assert "flood" in body["error"]


def test_control_rate_limit_set_and_remove(sim: Simulator) -> None:
    _, set_body = control(sim, "PUT", "/__simulator/rate-limit", {"requests": 5, "window": 10})
    _, removed = control(sim, "PUT", "/__simulator/rate-limit", {})
    assert set_body == {"rate_limit": {"requests": 5, "window": 10}}
    assert removed == {"rate_limit": None}
    assert sim.rate_limit is None


def test_control_account_state_and_update(sim: Simulator) -> None:
    sim.handle(SimRequest("GET", "/v3/account", {}, auth_header(), b""))
    changes = {"balance": "1.50", "global_sending": False, "sms_part_limit": 8}
    status, updated = control(sim, "PATCH", "/__simulator/accounts/user", changes)
    _, listed = control(sim, "GET", "/__simulator/accounts")
    assert status == 200
    assert updated["balance"] == "1.500000"
    assert updated["global_sending"] is False
    assert updated["sms_part_limit"] == 8
    assert listed["accounts"][0]["username"] == "user"


def test_control_account_unknown_is_404(sim: Simulator) -> None:
    status, _ = control(sim, "GET", "/__simulator/accounts/nobody")
    assert status == 404


def test_control_account_wrong_type_is_400(sim: Simulator) -> None:
    sim.handle(SimRequest("GET", "/v3/account", {}, auth_header(), b""))
    status, body = control(sim, "PATCH", "/__simulator/accounts/user", {"balance": 5})
    assert status == 400
    assert "balance" in body["error"]


def test_control_reset_deletes_accounts(sim: Simulator) -> None:
    sim.handle(SimRequest("GET", "/v3/account", {}, auth_header(), b""))
    status, _ = control(sim, "POST", "/__simulator/reset")
    assert status == 200
    assert sim.account_states() == []


def test_control_wrong_method_is_405(sim: Simulator) -> None:
    status, _ = control(sim, "GET", "/__simulator/reset")
    assert status == 405


def test_control_unknown_path_is_404(sim: Simulator) -> None:
    status, _ = control(sim, "GET", "/__simulator/weather")
    assert status == 404


# Scenario files


def test_scenario_toml_loads_rules_and_rate_limit(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(
        "[rate_limit]\nrequests = 20\nwindow = 60\n\n"
        '[[faults]]\nkind = "response_lost"\nmethod = "POST"\npath = "/v3/sms/send"\ncount = 1\n\n'
        '[[faults]]\nkind = "latency"\ndelay = 0.5\ncount = 0\n'
    )
    scenario = load_scenario(path)
    assert scenario.rate_limit == RateLimitSettings(20, 60)
    assert [rule.fault.kind for rule in scenario.faults] == ["response_lost", "latency"]
    assert scenario.faults[1].count is None
    assert scenario.faults[1].fault.delay == 0.5


def test_scenario_json_applies_to_simulator(tmp_path: Path, sim: Simulator) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"faults": [{"kind": "http_500", "path": "/v3/account"}]}))
    sim.apply_scenario(load_scenario(path))
    response = sim.handle(SimRequest("GET", "/v3/account", {}, auth_header(), b""))
    assert response.status == 500


@pytest.mark.parametrize(
    "text",
    [
        '[[faults]]\nkind = "flood"\n',
        '[[faults]]\nkind = "latency"\nwhen = "now"\n',
        '[[faults]]\nkind = "latency"\npath = "v3/sms"\n',
        "[rate_limit]\nrequests = 5\n",
        "weather = 1\n",
        "not toml at all [",
    ],
)
def test_scenario_invalid_raises(tmp_path: Path, text: str) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_scenario_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError):
        load_scenario(tmp_path / "absent.toml")
