"""Agent passwords: Argon2id off the event loop, with equal work for unknown and known emails.

An Argon2id verification takes tens of milliseconds of CPU and 64 MiB by default. Run on the
event loop, a handful of wrong passwords a second would stall every other request of the
process, so hashing runs on a small thread pool of its own (argon2-cffi releases the GIL while
it hashes). At most ``concurrency`` hashes run at once and at most ``queue`` calls wait for a
turn; a call beyond that is refused at once with ServiceUnavailable(password_checks_busy)
rather than queued without bound.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from frontdesk.errors import ServiceUnavailable

BUSY_RETRY_AFTER_SECONDS = 1

T = TypeVar("T")


class Passwords:
    def __init__(
        self, *, memory_kib: int, time_cost: int, concurrency: int = 2, queue: int = 16
    ) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1)
        # Made once at start, so the first unknown email costs no more than any other.
        self._dummy_hash = self._hasher.hash("an unknown account never matches this")
        self._slots = max(1, concurrency)
        self._queue = max(0, queue)
        self._executor = ThreadPoolExecutor(
            max_workers=self._slots, thread_name_prefix="frontdesk-argon2"
        )
        self._semaphore = asyncio.Semaphore(self._slots)
        self._waiting_or_running = 0

    async def hash(self, password: str) -> str:
        """The Argon2id hash of ``password``; ServiceUnavailable when too many are queued."""
        return await self._run(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no stored hash, does the same work and fails.

        Hashing a dummy for unknown accounts keeps a failed sign-in equally slow either way,
        so response time does not tell which emails have accounts. Raises
        ServiceUnavailable(password_checks_busy) when too many checks are already waiting.
        """
        return await self._run(self._verify_now, stored_hash, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _verify_now(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        if self._waiting_or_running >= self._slots + self._queue:
            raise ServiceUnavailable(
                "too many password checks at once; retry shortly",
                code="password_checks_busy",
                headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
            )
        self._waiting_or_running += 1
        try:
            await self._semaphore.acquire()  # waiting here is cancellable and holds no thread
        except BaseException:
            self._waiting_or_running -= 1
            raise
        job = asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(work, *args)
        )
        job.add_done_callback(self._release)
        # A caller that goes away does not free the slot before its hash is done.
        return await asyncio.shield(job)

    def _release(self, _: object) -> None:
        self._waiting_or_running -= 1
        self._semaphore.release()
