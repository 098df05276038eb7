"""An httpx transport that passes requests to a Simulator instead of the network."""

from __future__ import annotations

import logging

import httpx

from .core import SimRequest, Simulator

__all__ = ["SimulatorTransport"]

logger = logging.getLogger(__name__)


class SimulatorTransport(httpx.BaseTransport):
    """Send every request of an ``httpx.Client`` to a Simulator, so nothing reaches the network.

    Example: ``httpx.Client(transport=SimulatorTransport(sim), base_url="https://rest.clicksend.com/v3")``.
    """

    def __init__(self, simulator: Simulator) -> None:
        self._simulator = simulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Convert the httpx request, let the simulator handle it and convert its response."""
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
        return httpx.Response(
            status_code=sim_response.status,
            headers=sim_response.headers,
            content=sim_response.body,
            request=request,
        )
