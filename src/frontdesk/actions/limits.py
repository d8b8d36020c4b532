"""Abuse limits: token buckets per IP and per project, in memory, one set per process.

Each bucket holds up to ``rate`` tokens and refills ``rate`` per minute; an action takes one.
An empty bucket refuses with RateLimited (429) and a ``Retry-After`` header. Several server
processes each keep their own buckets, so the effective limit is per process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from frontdesk.clock import Clock
from frontdesk.errors import RateLimited
from frontdesk.settings import Settings

_WINDOW = 60.0
_MAX_TRACKED = 50_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``rate`` actions per minute per key, with bursts up to ``rate``."""

    def __init__(self, clock: Clock, rate: int) -> None:
        self._clock = clock
        self._rate = rate
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 when allowed, else the seconds until one is back."""
        if self._rate <= 0:
            return 0.0
        now = self._clock.now()
        per_second = self._rate / _WINDOW
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_TRACKED:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self._rate), now)
        bucket.tokens = min(self._rate, bucket.tokens + (now - bucket.updated) * per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / per_second

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they are the same as new ones."""
        full_after = _WINDOW
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]


class RateLimits:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.signin_per_ip = TokenBuckets(clock, settings.signin_rate_per_ip)
        self.signin_per_project = TokenBuckets(clock, settings.signin_rate_per_project)
        self.message_per_ip = TokenBuckets(clock, settings.message_rate_per_ip)
        self.message_per_project = TokenBuckets(clock, settings.message_rate_per_project)
        self.failed_signin_per_ip = TokenBuckets(clock, settings.failed_signin_rate_per_ip)
        self.failed_signin_per_project = TokenBuckets(
            clock, settings.failed_signin_rate_per_project
        )

    def check_anonymous_signin(self, ip: str, project_id: str) -> None:
        """Raises RateLimited(rate_limited) with Retry-After when either bucket is empty."""
        _check("anonymous sign-ins", self.signin_per_ip.take(ip),
               self.signin_per_project.take(project_id))

    def check_visitor_message(self, ip: str, project_id: str) -> None:
        _check("messages", self.message_per_ip.take(ip),
               self.message_per_project.take(project_id))

    def check_failed_signin(self, ip: str, project_id: str) -> None:
        """Counts one refused customer-token sign-in; RateLimited(rate_limited) with Retry-After
        when either bucket is empty (valid tokens never take from these buckets)."""
        _check("failed sign-ins", self.failed_signin_per_ip.take(ip),
               self.failed_signin_per_project.take(project_id))


def _check(what: str, *waits: float) -> None:
    wait = max(waits)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"too many {what}; retry in {seconds} s",
            code="rate_limited",
            headers={"Retry-After": str(seconds)},
        )
