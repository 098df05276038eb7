"""Offline simulator of the ClickSend REST API v3, usable directly, as an httpx transport or over HTTP."""

from .core import SimRequest, SimResponse, Simulator
from .faults import (
    Fault,
    FaultRule,
    RateLimitSettings,
    Scenario,
    ScenarioError,
    load_scenario,
)
from .pricing import SmsParts, sms_parts
from .server import SimulatorServer
from .transport import SimulatorTransport

__all__ = [
    "Fault",
    "FaultRule",
    "RateLimitSettings",
    "Scenario",
    "ScenarioError",
    "SimRequest",
    "SimResponse",
    "Simulator",
    "SimulatorServer",
    "SimulatorTransport",
    "SmsParts",
    "load_scenario",
    "sms_parts",
]
