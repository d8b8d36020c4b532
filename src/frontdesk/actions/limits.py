"""Abuse limits: token buckets per IP, per project and per account, in memory, one set per
process.

Each bucket holds up to ``rate`` tokens and refills ``rate`` per minute; an action takes one
(a password attempt takes one and gives it back when the password was right).
An empty bucket refuses with RateLimited (429) and a ``Retry-After`` header. Several server
processes each keep their own buckets, so the effective limit is per process.
"""

from __future__ import annotations

import hashlib
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
        self._per_second = rate / _WINDOW

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 when allowed, else the seconds until one is back."""
        if self._rate <= 0:
            return 0.0
        bucket = self._refilled(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self._per_second

    def give_back(self, key: str) -> None:
        """Return a token taken for an action that turned out not to count."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self._rate, bucket.tokens + 1)

    def _refilled(self, key: str) -> _Bucket:
        now = self._clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_TRACKED:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self._rate), now)
        bucket.tokens = min(self._rate, bucket.tokens + (now - bucket.updated) * self._per_second)
        bucket.updated = now
        return bucket

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
        self.failed_password_per_ip = TokenBuckets(clock, settings.failed_passwords_per_ip)
        self.failed_password_per_account = TokenBuckets(
            clock, settings.failed_passwords_per_account
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

    def take_password_attempt(self, ip: str, email: str) -> None:
        """Spend one password attempt of the address and of the account, before any hashing.

        Raises RateLimited(too_many_failed_signins) with Retry-After, spending nothing, when
        either has none left, so a refused attempt costs no Argon2 work. Spending up front
        means concurrent attempts cannot overshoot; ``return_password_attempt`` gives the
        attempt back when the password was right, so only failures count.
        """
        # The address first: a flood refused there never adds an account to the table.
        _check("failed sign-ins", self.failed_password_per_ip.take(ip),
               code="too_many_failed_signins")
        by_account = self.failed_password_per_account.take(_account_key(email))
        if by_account:
            self.failed_password_per_ip.give_back(ip)
        _check("failed sign-ins", by_account, code="too_many_failed_signins")

    def return_password_attempt(self, ip: str, email: str) -> None:
        self.failed_password_per_ip.give_back(ip)
        self.failed_password_per_account.give_back(_account_key(email))


def _account_key(email: str) -> str:
    # A fixed-size key: the email comes from the caller and may be long.
    return hashlib.blake2b(email.encode(), digest_size=16).hexdigest()


def _check(what: str, *waits: float, code: str = "rate_limited") -> None:
    wait = max(waits)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"too many {what}; retry in {seconds} s",
            code=code,
            headers={"Retry-After": str(seconds)},
        )
