"""Tests of the simulator served over real HTTP on 127.0.0.1, its faults on the wire and its CLI."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kosmo_clicksend.cli import main
from kosmo_clicksend.simulator import Simulator
from kosmo_clicksend.simulator.server import SimulatorServer

REPO = Path(__file__).resolve().parents[1]
SEND_BODY = {"messages": [{"to": "+61412345678", "body": "over http"}]}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    simulator = Simulator(tmp_path / "state.sqlite3", seed=3)
    yield simulator
    simulator.close()


@pytest.fixture
def server(sim: Simulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


@pytest.fixture
def http(server: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/v3", auth=("user", "key"), timeout=5) as client:
        yield client


def test_server_listens_on_loopback_port(server: SimulatorServer) -> None:
    assert server.host == "127.0.0.1"
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_server_answers_account(http: httpx.Client) -> None:
    response = http.get("/account")
    assert response.status_code == 200
    assert response.json()["data"]["balance"] == "20.000000"
    assert response.headers["content-type"].startswith("application/json")


def test_server_unknown_path_is_404(http: httpx.Client) -> None:
    response = http.get("/account/balance")
    assert response.status_code == 404
    assert response.json()["response_code"] == "NOT_FOUND"


def test_server_page_links_use_host_and_port(http: httpx.Client, server: SimulatorServer) -> None:
    http.post("/sms/send", json={"messages": [{"to": "+61411111111", "body": f"m{n}"} for n in range(20)]})
    data = http.get("/sms/history").json()["data"]
    assert data["next_page_url"] == f"{server.url}/v3/sms/history?page=2"


def test_server_query_plus_encoded(http: httpx.Client) -> None:
    http.post("/sms/send", json={"messages": [{"to": "+61411111111", "body": "a"}, {"to": "+61422222222", "body": "b"}]})
    data = http.get("/sms/history", params={"q": "to:+61422222222"}).json()["data"]
    assert data["total"] == 1


def test_server_parallel_clients_stay_consistent(server: SimulatorServer, sim: Simulator) -> None:
    errors: list[BaseException] = []
    ids: list[str] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        try:
            with httpx.Client(base_url=server.url + "/v3", auth=("user", "key"), timeout=10) as client:
                for index in range(10):
                    body = {"messages": [{"to": "+61412345678", "body": f"w{number} m{index}"}]}
                    message = client.post("/sms/send", json=body).json()["data"]["messages"][0]
                    with lock:
                        ids.append(message["message_id"])
        except BaseException as error:  # re-checked in the main thread
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    state = sim.account_state("user")
    assert errors == []
    assert time.monotonic() - started < 30
    assert state["sms_count"] == 80
    assert state["balance"] == "13.664000"
    assert len(set(ids)) == 80


# Faults on the wire


def test_server_connection_reset(http: httpx.Client, sim: Simulator) -> None:
    http.get("/account")
    with pytest.raises(httpx.ReadError):
        http.post("/sms/send", json=SEND_BODY, headers={"X-Simulator-Fault": "connection_reset"})
    assert sim.account_state("user")["sms_count"] == 0


def test_server_read_timeout_stalls(server: SimulatorServer) -> None:
    started = time.monotonic()
    with httpx.Client(base_url=server.url + "/v3", auth=("user", "key"), timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/account", headers={"X-Simulator-Fault": "read_timeout=5"})
    assert time.monotonic() - started < 3


def test_server_stop_ends_stalled_request(sim: Simulator) -> None:
    server = SimulatorServer(sim)
    server.start()
    outcome: list[BaseException] = []

    def stalled_request() -> None:
        try:
            with httpx.Client(base_url=server.url + "/v3", auth=("user", "key"), timeout=10) as client:
                client.get("/account", headers={"X-Simulator-Fault": "read_timeout=60"})
        except httpx.HTTPError as error:
            outcome.append(error)

    thread = threading.Thread(target=stalled_request)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 5
    assert not thread.is_alive()
    assert len(outcome) == 1


def test_server_response_lost_commits(http: httpx.Client, sim: Simulator) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/sms/send", json=SEND_BODY, headers={"X-Simulator-Fault": "response_lost"})
    state = sim.account_state("user")
    assert state["sms_count"] == 1
    assert state["balance"] == "19.920800"


def test_server_latency_delays_answer(http: httpx.Client) -> None:
    started = time.monotonic()
    response = http.get("/account", headers={"X-Simulator-Fault": "latency=0.3"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_server_http_502_html(http: httpx.Client) -> None:
    response = http.get("/account", headers={"X-Simulator-Fault": "http_502"})
    assert response.status_code == 502
    assert response.text.startswith("<html>")


def test_server_malformed_json(http: httpx.Client) -> None:
    response = http.get("/account", headers={"X-Simulator-Fault": "malformed_json"})
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_server_control_api_adds_fault(server: SimulatorServer, http: httpx.Client) -> None:
    with httpx.Client(base_url=server.url, timeout=5) as control:
        added = control.post("/__simulator/faults", json={"kind": "http_500", "path": "/v3/account"})
        assert added.status_code == 201
    assert http.get("/account").status_code == 500
    assert http.get("/account").status_code == 200


def test_server_rate_limit_headers(server: SimulatorServer, http: httpx.Client) -> None:
    with httpx.Client(base_url=server.url, timeout=5) as control:
        control.put("/__simulator/rate-limit", json={"requests": 2, "window": 60})
    statuses = [http.get("/account").status_code for _ in range(3)]
    refused = http.get("/account")
    assert statuses == [200, 200, 429]
    assert refused.headers["retry-after"].isdigit()
    assert refused.headers["x-ratelimit-remaining"] == "0"


def test_server_state_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "restart.sqlite3"
    for _ in range(2):
        with Simulator(path) as simulator, SimulatorServer(simulator) as server:
            with httpx.Client(base_url=server.url + "/v3", auth=("user", "key"), timeout=5) as client:
                client.post("/sms/send", json={"messages": [{"to": "+61411111111", "body": "persist"}]})
                total = client.get("/sms/history").json()["data"]["total"]
    assert total == 2


# The simulator commands


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_state_shows_balance_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite3"
    with Simulator(path) as simulator, SimulatorServer(simulator) as server:
        with httpx.Client(base_url=server.url + "/v3", auth=("demo", "key"), timeout=5) as client:
            client.post("/sms/send", json=SEND_BODY)
    code, out, _ = run_cli("simulator", "state", "demo", "--state", str(path), "--json")
    text_code, text, _ = run_cli("simulator", "state", "--state", str(path))
    state = json.loads(out)
    assert code == 0
    assert state["balance"] == "19.920800"
    assert state["sms_count"] == 1
    assert text_code == 0
    assert text.startswith("demo: balance 19.920800 AUD")


def test_cli_state_unknown_account_fails(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite3"
    Simulator(path).close()
    code, _, err = run_cli("simulator", "state", "nobody", "--state", str(path))
    assert code == 1
    assert "nobody" in err


def test_cli_reset_empties_state(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite3"
    with Simulator(path) as simulator, SimulatorServer(simulator) as server:
        httpx.get(server.url + "/v3/account", auth=("demo", "key"), timeout=5)
    code, out, _ = run_cli("simulator", "reset", "--state", str(path))
    _, state, _ = run_cli("simulator", "state", "--state", str(path), "--json")
    assert code == 0
    assert "Reset" in out
    assert json.loads(state) == []


def test_cli_serve_bad_rate_limit_is_usage_error(tmp_path: Path) -> None:
    code, _, err = run_cli("simulator", "serve", "--state", str(tmp_path / "s.sqlite3"), "--rate-limit", "lots")
    assert code == 2
    assert "REQUESTS/SECONDS" in err


def test_cli_serve_prints_url_and_stops_on_interrupt(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[[faults]]\nkind = "http_500"\npath = "/v3/account"\ncount = 1\n')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [
        sys.executable, "-m", "kosmo_clicksend", "simulator", "serve",
        "--port", "0", "--state", str(tmp_path / "serve.sqlite3"), "--scenario", str(scenario),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        url = first_line.split("listening on ")[1].split(" ")[0]
        with httpx.Client(base_url=url + "/v3", auth=("demo", "key"), timeout=5) as client:
            faulted = client.get("/account").status_code
            normal = client.get("/account").status_code
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert url.startswith("http://127.0.0.1:")
    assert faulted == 500
    assert normal == 200
    assert process.returncode == 0
    assert "Simulator stopped." in out
