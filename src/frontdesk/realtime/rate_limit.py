"""The frame budget of WebSockets, so one client cannot flood the server with frames.

Counted by the ``limits`` library, through the counters of the HTTP limits
(``actions.limits.Counters``), in a moving window of ``burst / rate`` seconds (rounded up to
whole seconds) holding at most ``burst`` frames: a client may send ``burst`` frames at once,
then about ``rate`` a second for as long as it likes. Frames refused count in a window of
their own: a client refused ``burst`` times within one window is to be closed, while one that
calms down for a window starts again from zero.

Every frame is checked against a budget in this process's memory: a Redis round trip per
frame costs about 50 times the in-memory check (some 370 µs against 7 µs on loopback), paid
by exactly the clients that flood. When Redis shares the HTTP limits, a session's frames are
also counted there, a quarter of the burst at a time (and, as for the HTTP limits, Redis is
left alone for a few seconds after it fails): a session whose sockets on all processes
together overspend its budget is refused on every process for a window. Between two batches
a process may let through up to a quarter of the burst more than the shared budget, so the
sockets of one session get at most the burst plus a quarter of it per process.
"""

from __future__ import annotations

import itertools
import math
import time

from limits import RateLimitItemPerSecond

from frontdesk.actions.limits import Counters

_unbudgeted = itertools.count()
_SESSION = "session:"


class FrameBudgets:
    """The budgets of every socket and session of this process, by key; with ``counters`` that
    share Redis (the HTTP limits') a session's frames are also counted across processes."""

    def __init__(
        self, rate: float, burst: int, counters: Counters | None = None, namespace: str = ""
    ) -> None:
        self._window = max(1, math.ceil(burst / rate))
        self._frames = RateLimitItemPerSecond(burst, self._window, namespace="frames")
        self._refusals = RateLimitItemPerSecond(burst - 1, self._window, namespace="refusals")
        self._counters = counters if counters is not None else Counters(None)
        self._shared_frames = RateLimitItemPerSecond(
            burst, self._window, namespace=f"{namespace}:frames"
        )
        self._batch = max(1, burst // 4)
        self._unshared: dict[str, int] = {}  # frames taken here, not yet counted in Redis
        self._over_until: dict[str, float] = {}  # sessions over their shared budget

    async def take(self, key: str) -> bool:
        """Spend one frame of ``key``'s budget; False when there is none left."""
        if not self._counters.shared or not key.startswith(_SESSION):
            return await self._counters.hit_local(self._frames, key)
        over_until = self._over_until.get(key)
        if over_until is not None:
            if time.monotonic() < over_until:
                return False
            del self._over_until[key]
        if not await self._counters.hit_local(self._frames, key):
            return False
        await self._count_shared(key)
        return True

    async def _count_shared(self, key: str) -> None:
        """Count the frames taken here in Redis, a batch at a time; a session over its budget
        across processes is refused here for a window."""
        unshared = self._unshared.get(key, 0) + 1
        if unshared < self._batch:
            self._unshared[key] = unshared
            return
        self._unshared.pop(key, None)
        # While Redis is away, only the budget of this process holds.
        if not await self._counters.hit_shared(self._shared_frames, key, cost=unshared):
            self._over_until[key] = time.monotonic() + self._window

    async def tolerate_refusal(self, key: str) -> bool:
        """Count one refused frame of ``key``; False when it has been refused ``burst`` times
        within one window, and is to be closed."""
        return await self._counters.hit_local(self._refusals, key)

    def forget(self, key: str) -> None:
        """Drop what is kept for ``key`` besides its counts (its last socket here closed)."""
        self._unshared.pop(key, None)
        self._over_until.pop(key, None)


def socket_key() -> str:
    """The budget key of a socket that has no session yet: its own."""
    return f"socket:{next(_unbudgeted)}"


def session_key(jti: str) -> str:
    """The budget key every socket of the session ``jti`` shares."""
    return f"session:{jti}"
