"""An httpx transport that passes requests to a Simulator instead of the network.

Transport faults become the httpx exceptions a client would see over a real connection:
``connection_reset`` raises ``httpx.ReadError``, ``read_timeout`` raises ``httpx.ReadTimeout``
at once (without waiting), and ``response_lost`` raises ``httpx.RemoteProtocolError`` after
the simulator has committed the request. ``latency`` sleeps before returning the response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx

from .core import SimRequest, SimResponse, Simulator

__all__ = ["SimulatorTransport"]

logger = logging.getLogger(__name__)


class SimulatorTransport(httpx.BaseTransport):
    """Send every request of an ``httpx.Client`` to a Simulator, so nothing reaches the network.

    Example: ``httpx.Client(transport=SimulatorTransport(sim), base_url="https://rest.clicksend.com/v3")``.
    ``sleep`` carries out the latency fault; tests can pass a function that records the delay.
    """

    def __init__(self, simulator: Simulator, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._simulator = simulator
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Convert the httpx request, let the simulator handle it and convert its response or fault."""
        url = request.url
        host = f"[{url.host}]" if ":" in url.host else url.host
        base_url = f"{url.scheme}://{host}" + (f":{url.port}" if url.port is not None else "")
        sim_request = SimRequest(
            method=request.method,
            path=url.path,
            query=dict(url.params.multi_items()),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=request.read(),
            base_url=base_url,
        )
        sim_response = self._simulator.handle(sim_request)
        self._apply_fault(sim_response, request)
        return httpx.Response(
            status_code=sim_response.status,
            headers=sim_response.headers,
            content=sim_response.body,
            request=request,
        )

    def _apply_fault(self, response: SimResponse, request: httpx.Request) -> None:
        fault = response.fault
        if fault is None:
            return
        if fault.kind == "latency":
            self._sleep(fault.delay)
        elif fault.kind == "connection_reset":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        elif fault.kind == "read_timeout":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        elif fault.kind == "response_lost":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
