"""Agent passwords: Argon2id, with equal work for unknown and known emails."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 8


class Passwords:
    def __init__(self, *, memory_kib: int, time_cost: int) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    @functools.cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash("an unknown account never matches this")

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no stored hash, does the same work and fails.

        Hashing a dummy for unknown accounts keeps a failed sign-in equally slow either way,
        so response time does not tell which emails have accounts.
        """
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
