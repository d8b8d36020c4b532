"""Time as a seam: the system clock in production, a settable one in tests."""

from __future__ import annotations

import functools
import time
from typing import Protocol, overload


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.current = start

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


@overload
def iso(ms: int) -> str: ...


@overload
def iso(ms: int | None) -> str | None: ...


def iso(ms: int | None) -> str | None:
    """An epoch-milliseconds value as the ISO 8601 UTC string the API returns.

    Integer arithmetic on the milliseconds, so the last digit is exact; every response formats
    several of these per row, and datetime objects made that a visible share of a list page.
    """
    if ms is None:
        return None
    return _iso_ms(int(ms))


# A list page formats ≈ 8 times per row, often the same values (created and updated times,
# the same rows shown again): remembered per value.
@functools.lru_cache(maxsize=8192)
def _iso_ms(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
