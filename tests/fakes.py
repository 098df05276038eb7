"""Test doubles shared by several test files."""

from __future__ import annotations

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
