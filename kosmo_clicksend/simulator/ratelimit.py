"""A fixed-window request budget per account, with 429 TOO_MANY_REQUESTS past it.

ClickSend publishes no numbers. One third-party report saw about 20 requests per 60 s on
GET /v3/account, the headers ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and
``ratelimit-reset``, and a ``Retry-After`` in whole seconds on the 429. The simulator sends
those headers on every response while a budget is set, and has no budget unless one is set.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .faults import RateLimitSettings

__all__ = ["RateDecision", "RateLimiter"]


@dataclass(frozen=True)
class RateDecision:
    """The outcome of counting one request: whether it may proceed, and the headers to send."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """Return the rate-limit headers, with Retry-After on a refused request."""
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["retry-after"] = str(self.reset_seconds)
        return headers


class RateLimiter:
    """Count requests per key (the API username) in fixed windows that start at a key's first request.

    State is kept in memory, so a restarted simulator starts every budget afresh. Times are
    the simulator clock's Unix seconds, so tests move windows with their clock.
    """

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def check(self, key: str, now: float) -> RateDecision:
        """Count one request for key at time now and decide whether it is within the budget."""
        limit = self.settings.requests
        window = float(self.settings.window)
        with self._lock:
            start, used = self._windows.get(key, (now, 0))
            if now >= start + window:
                start, used = now, 0
            allowed = used < limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
        reset = max(1, math.ceil(start + window - now))
        return RateDecision(allowed, limit, max(limit - used, 0), reset)
