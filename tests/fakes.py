"""Test doubles shared by several test files."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

# A fixed start time for simulator clocks: 2027-01-15, a date with no clock change nearby.
START = 1_800_000_000


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class NullHost:
    """A LuaHost whose every tool call succeeds at once, to measure the sandbox alone."""

    def call_tool(self, path, arguments):
        return "clicksend_null", "default", {"response_code": "SUCCESS", "data": {"n": 1}}

    def read_doc(self, page):
        return ""


def median_seconds(action: Callable[[], object], rounds: int) -> float:
    """Run ``action`` ``rounds`` times and return the median wall time in seconds."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
