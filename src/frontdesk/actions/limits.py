"""Abuse limits per client address, per project and per account, counted by the ``limits``
library: in Redis when ``redis_url`` is set, so every process of a deployment shares them,
else in this process's memory.

Each limit allows ``rate`` actions in any moving minute; one more is refused with RateLimited
(429) and a ``Retry-After`` header saying when the oldest counted action leaves the window.
Password attempts are counted in fixed one-minute windows instead, because an attempt is
spent before the hash is checked and given back when the password was right, and a moving
window cannot give back.

When Redis does not answer, the limits are counted in this process's memory, and Redis is
tried again five seconds later (logged at most once a minute): an outage must neither let
every attempt through, nor refuse or stall every visitor.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.errors import StorageError

from frontdesk.errors import RateLimited
from frontdesk.extras import import_extra
from frontdesk.settings import Settings

log = logging.getLogger("frontdesk.limits")

_REDIS_TIMEOUT = 1.0  # seconds: a limit check must not hang on an unreachable Redis
_OUTAGE_LOG_INTERVAL = 60.0
_RETRY_AFTER_OUTAGE = 5.0  # seconds of counting in memory before Redis is tried again
_SWEEP_INTERVAL = 10.0

T = TypeVar("T")


class SweptMemoryStorage(MemoryStorage):
    """``limits``' in-memory storage, sweeping out expired entries at most every ten seconds.

    The library starts a sweep after every operation that finds the previous one done, and a
    sweep hops to a worker thread once per key: with 10,000 keys and 1,000 checks a second
    that kept half a core busy sweeping, against 6% when sweeping every ten seconds. Checks
    ignore expired entries whether swept or not, so a rarer sweep only holds memory longer:
    at most what the limits allow in ten seconds.
    """

    _last_sweep = -_SWEEP_INTERVAL

    async def _MemoryStorage__schedule_expiry(self) -> None:  # the library's private hook
        now = time.monotonic()
        if now - self._last_sweep >= _SWEEP_INTERVAL:
            self._last_sweep = now
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


class RedisCounters:
    """The ``limits`` storage on ``redis_url``, over a connection pool this owns."""

    def __init__(self, redis_url: str) -> None:
        redis = import_extra("redis.asyncio", extra="redis", wanted_by="FRONTDESK_REDIS_URL")
        self.pool = redis.ConnectionPool.from_url(
            redis_url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT
        )
        # The scheme picks the storage class; the pool says where Redis is (redis://,
        # rediss:// or unix://).
        self.storage = RedisStorage(
            "async+redis://", implementation="redispy", wrap_exceptions=True,
            connection_pool=self.pool,
        )

    async def close(self) -> None:
        await self.pool.aclose()


class _Windows:
    """The moving and fixed window strategies on one storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.moving = MovingWindowRateLimiter(storage)
        self.fixed = FixedWindowRateLimiter(storage)

    async def hit(self, item: RateLimitItem, key: str) -> float:
        if await self.moving.hit(item, key):
            return 0.0
        stats = await self.moving.get_window_stats(item, key)
        return max(stats.reset_time - time.time(), 1.0)

    async def take(self, item: RateLimitItem, key: str) -> float:
        if await self.fixed.hit(item, key):
            return 0.0
        # The refused attempt was counted too: uncount it, so a refusal spends nothing.
        await _uncount(self.storage, item, key)
        return max(await self.storage.get_expiry(item.key_for(key)) - time.time(), 1.0)

    async def give_back(self, item: RateLimitItem, key: str) -> None:
        await _uncount(self.storage, item, key)


class Counters:
    """Moving and fixed windows on one storage, with this process's memory standing in while
    the storage fails: for ``_RETRY_AFTER_OUTAGE`` seconds after each failure, so an
    unreachable Redis delays no more than one check in that time."""

    def __init__(self, storage: Storage | None) -> None:
        self._memory = _Windows(SweptMemoryStorage())
        self._shared = _Windows(storage) if storage is not None else None
        self._failed_at = -_RETRY_AFTER_OUTAGE
        self._last_outage_log = -_OUTAGE_LOG_INTERVAL

    async def hit(self, item: RateLimitItem, key: str) -> float:
        """Count one action against ``key`` in a moving window: 0.0 when allowed, else the
        seconds until one is allowed again (nothing is counted then)."""
        return await self._run(lambda windows: windows.hit(item, key))

    async def take(self, item: RateLimitItem, key: str) -> float:
        """Count one action against ``key`` in a fixed window, as ``hit`` does."""
        return await self._run(lambda windows: windows.take(item, key))

    async def give_back(self, item: RateLimitItem, key: str) -> None:
        """Uncount one action ``take`` counted against ``key``."""
        await self._run(lambda windows: windows.give_back(item, key))

    async def _run(self, step: Callable[[_Windows], Awaitable[T]]) -> T:
        """``step`` on the shared storage, or in memory while it is failing."""
        shared = self._available()
        if shared is not None:
            try:
                return await step(shared)
            except StorageError as exc:
                self._outage(exc)
        return await step(self._memory)

    @property
    def shared(self) -> bool:
        """Whether these counters have a shared storage (Redis) besides this process's memory."""
        return self._shared is not None

    async def hit_local(self, item: RateLimitItem, key: str) -> bool:
        """Count one action against ``key`` in this process's memory alone, in a moving window:
        False when that is over ``item``'s limit. For limits checked too often for a round
        trip each (the WebSocket frame budgets)."""
        return await self._memory.moving.hit(item, key)

    async def hit_shared(self, item: RateLimitItem, key: str, cost: int = 1) -> bool:
        """Count ``cost`` actions against ``key`` in the shared storage's moving window alone,
        for a caller that counts in its own memory first; False when that is over ``item``'s
        limit, True when it is not or while the shared storage is failing (nothing counted)."""
        shared = self._available()
        if shared is None:
            return True
        try:
            return await shared.moving.hit(item, key, cost=cost)
        except StorageError as exc:
            self._outage(exc)
            return True

    def _available(self) -> _Windows | None:
        """The shared storage, unless it failed within the last ``_RETRY_AFTER_OUTAGE``."""
        if time.monotonic() - self._failed_at < _RETRY_AFTER_OUTAGE:
            return None
        return self._shared

    def _outage(self, exc: StorageError) -> None:
        now = self._failed_at = time.monotonic()
        if now - self._last_outage_log >= _OUTAGE_LOG_INTERVAL:
            self._last_outage_log = now
            log.warning("rate limits counted per process: Redis failed (%s)", exc.storage_error)


async def _uncount(storage: Storage, item: RateLimitItem, key: str) -> None:
    # Never below zero: the window counted in may have ended since, and a new one must not
    # start with an attempt to spare.
    if await storage.incr(item.key_for(key), item.get_expiry(), amount=-1) < 0:
        await storage.incr(item.key_for(key), item.get_expiry(), amount=1)


class Limit:
    """``rate`` actions a minute per key (0: unlimited), named ``name`` in the counters."""

    def __init__(self, counters: Counters, namespace: str, name: str, rate: int) -> None:
        self._counters = counters
        self._item = (
            RateLimitItemPerMinute(rate, namespace=f"{namespace}:{name}") if rate > 0 else None
        )

    async def hit(self, key: str) -> float:
        return 0.0 if self._item is None else await self._counters.hit(self._item, key)

    async def take(self, key: str) -> float:
        return 0.0 if self._item is None else await self._counters.take(self._item, key)

    async def give_back(self, key: str) -> None:
        if self._item is not None:
            await self._counters.give_back(self._item, key)


class RateLimits:
    """Every HTTP abuse limit of a deployment (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self._redis = RedisCounters(settings.redis_url) if settings.redis_url else None
        self.counters = Counters(self._redis.storage if self._redis else None)
        # Deployments sharing one Redis keep apart as their events do, by the channel name.
        namespace = settings.redis_channel

        def limit(name: str, rate: int) -> Limit:
            return Limit(self.counters, namespace, name, rate)

        self.signin_per_ip = limit("signin-ip", settings.signin_rate_per_ip)
        self.signin_per_project = limit("signin-project", settings.signin_rate_per_project)
        self.message_per_ip = limit("message-ip", settings.message_rate_per_ip)
        self.message_per_project = limit("message-project", settings.message_rate_per_project)
        self.failed_signin_per_ip = limit("failed-signin-ip", settings.failed_signin_rate_per_ip)
        self.failed_signin_per_project = limit(
            "failed-signin-project", settings.failed_signin_rate_per_project
        )
        self.email_code_per_address = limit(
            "email-code-address", settings.email_code_rate_per_address
        )
        self.email_code_per_ip = limit("email-code-ip", settings.email_code_rate_per_ip)
        self.email_code_per_project = limit(
            "email-code-project", settings.email_code_rate_per_project
        )
        self.failed_password_per_ip = limit("password-ip", settings.failed_passwords_per_ip)
        self.failed_password_per_account = limit(
            "password-account", settings.failed_passwords_per_account
        )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()

    async def check_anonymous_signin(self, ip: str, project_id: str) -> None:
        """Raises RateLimited(rate_limited) with Retry-After past either limit."""
        _check("anonymous sign-ins", await self.signin_per_ip.hit(_address_key(ip)))
        _check("anonymous sign-ins", await self.signin_per_project.hit(project_id))

    async def check_visitor_message(self, ip: str, project_id: str) -> None:
        _check("messages", await self.message_per_ip.hit(_address_key(ip)))
        _check("messages", await self.message_per_project.hit(project_id))

    async def check_email_code(self, ip: str, project_id: str, email: str) -> None:
        """Counts one e-mail code to send; RateLimited(rate_limited) with Retry-After past
        the limit of the client address, the project or the (normalised) address."""
        _check("e-mail codes", await self.email_code_per_ip.hit(_address_key(ip)))
        _check("e-mail codes", await self.email_code_per_project.hit(project_id))
        _check("e-mail codes", await self.email_code_per_address.hit(
            f"{project_id}:{_account_key(email)}"
        ))

    async def check_failed_signin(self, ip: str, project_id: str) -> None:
        """Counts one refused customer-token sign-in; RateLimited(rate_limited) with
        Retry-After past either limit (valid tokens are never counted here)."""
        _check("failed sign-ins", await self.failed_signin_per_ip.hit(_address_key(ip)))
        _check("failed sign-ins", await self.failed_signin_per_project.hit(project_id))

    async def take_password_attempt(self, ip: str, email: str) -> None:
        """Spend one password attempt of the address and of the account, before any hashing.

        Raises RateLimited(too_many_failed_signins) with Retry-After, spending nothing, when
        either has none left, so a refused attempt costs no Argon2 work. Spending up front
        means concurrent attempts cannot overshoot; ``return_password_attempt`` gives the
        attempt back when the password was right, so only failures count.
        """
        # The address first: a flood refused there never adds an account to the counters.
        _check("failed sign-ins", await self.failed_password_per_ip.take(_address_key(ip)),
               code="too_many_failed_signins")
        by_account = await self.failed_password_per_account.take(_account_key(email))
        if by_account:
            await self.failed_password_per_ip.give_back(_address_key(ip))
        _check("failed sign-ins", by_account, code="too_many_failed_signins")

    async def return_password_attempt(self, ip: str, email: str) -> None:
        await self.failed_password_per_ip.give_back(_address_key(ip))
        await self.failed_password_per_account.give_back(_account_key(email))


def _address_key(ip: str) -> str:
    """What one client address is counted under: itself, or for IPv6 its /64, since a single
    IPv6 host is usually handed a whole /64 and can pick any address in it."""
    if ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip)
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:  # an IPv4 client seen through a dual-stack socket
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


def _account_key(email: str) -> str:
    # A fixed-size key: the email comes from the caller and may be long.
    return hashlib.blake2b(email.encode(), digest_size=16).hexdigest()


def _check(what: str, wait: float, code: str = "rate_limited") -> None:
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"too many {what}; retry in {seconds} s",
            code=code,
            headers={"Retry-After": str(seconds)},
        )
