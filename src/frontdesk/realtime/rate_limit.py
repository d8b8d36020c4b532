"""The frame budget of WebSockets, so one client cannot flood the server with frames.

Counted by the ``limits`` library in a moving window of ``burst / rate`` seconds (rounded up
to whole seconds) holding at most ``burst`` frames: a client may send ``burst`` frames at once,
then about ``rate`` a second for as long as it likes. Frames refused count in a window of
their own: a client refused ``burst`` times within one window is to be closed, while one that
calms down for a window starts again from zero.

The budget is kept in this process's memory even when Redis shares the HTTP limits: every
frame is checked, and a Redis round trip per frame costs about 50 times the in-memory check
(some 370 µs against 7 µs on loopback), paid by exactly the clients that flood. Each process
holds at most ``ws_sockets_per_session`` sockets of one session, so a session spread over N
processes gets at most N budgets.
"""

from __future__ import annotations

import itertools
import math

from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter

from frontdesk.actions.limits import SweptMemoryStorage

_unbudgeted = itertools.count()


class FrameBudgets:
    """The budgets of every socket and session of this process, by key."""

    def __init__(self, rate: float, burst: int) -> None:
        window = max(1, math.ceil(burst / rate))
        self._frames = RateLimitItemPerSecond(burst, window, namespace="frames")
        self._refusals = RateLimitItemPerSecond(burst - 1, window, namespace="refusals")
        self._limiter = MovingWindowRateLimiter(SweptMemoryStorage())

    async def take(self, key: str) -> bool:
        """Spend one frame of ``key``'s budget; False when there is none left."""
        return await self._limiter.hit(self._frames, key)

    async def tolerate_refusal(self, key: str) -> bool:
        """Count one refused frame of ``key``; False when it has been refused ``burst`` times
        within one window, and is to be closed."""
        return await self._limiter.hit(self._refusals, key)


def socket_key() -> str:
    """The budget key of a socket that has no session yet: its own."""
    return f"socket:{next(_unbudgeted)}"


def session_key(jti: str) -> str:
    """The budget key every socket of the session ``jti`` shares."""
    return f"session:{jti}"
