"""Offline simulator of the ClickSend REST API v3, usable directly or as an httpx transport."""

from .core import SimRequest, SimResponse, Simulator
from .pricing import SmsParts, sms_parts
from .transport import SimulatorTransport

__all__ = ["SimRequest", "SimResponse", "Simulator", "SimulatorTransport", "SmsParts", "sms_parts"]
