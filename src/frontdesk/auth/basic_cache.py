"""Recently verified HTTP Basic credentials, so a client re-sending them skips Argon2id.

An entry is keyed by an HMAC, under the server secret, of the normalised email and the
password: the plaintext password is never kept, and a leaked key cannot be checked against a
guess without the secret. It remembers which user it proved and the password hash it was
verified against. A hit counts only while that user still exists with that same hash, so a
changed password or a removed account voids every entry for it at once, in every process,
without any message between them. Entries live ``ttl`` seconds; the oldest go past
``max_entries``. Only successes are stored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass

from frontdesk.clock import Clock


@dataclass(frozen=True)
class VerifiedCredential:
    user_id: str
    password_hash: str
    valid_until: float


class BasicCredentialCache:
    def __init__(self, clock: Clock, secret: str, *, ttl: float, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._key = hashlib.sha256(b"frontdesk basic credentials\x00" + secret.encode()).digest()
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[bytes, VerifiedCredential] = OrderedDict()

    def _digest(self, email: str, password: str) -> bytes:
        message = email.encode() + b"\x00" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def matches(self, email: str, password: str, user_id: str, password_hash: str) -> bool:
        """True when this email and password were verified for this user and its current hash."""
        if self._ttl <= 0:
            return False
        digest = self._digest(email, password)
        entry = self._entries.get(digest)
        if entry is None:
            return False
        current = entry.user_id == user_id and hmac.compare_digest(
            entry.password_hash, password_hash
        )
        if not current or self._clock.now() >= entry.valid_until:
            del self._entries[digest]
            return False
        return True

    def remember(self, email: str, password: str, user_id: str, password_hash: str) -> None:
        if self._ttl <= 0:
            return
        digest = self._digest(email, password)
        self._entries[digest] = VerifiedCredential(
            user_id, password_hash, self._clock.now() + self._ttl
        )
        self._entries.move_to_end(digest)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
