"""Recently verified session tokens, so repeated calls skip the signature check and the
session lookup.

An entry lives until the earlier of its token's ``exp`` and ``ttl`` seconds after it was
cached. Revocation evicts at once: ``Services.publish_on_commit`` evicts locally when a
SessionRevoked event commits, and every other process evicts when the broker delivers it;
``ttl`` bounds how long an entry could outlive a revocation a broker failed to deliver.

While the broker has lost its link to the other processes (Redis unreachable), revocations
made elsewhere cannot reach this process: the cache is then ``suspend``ed — emptied, and every
call checks the database — until ``resume`` once the link is back.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from frontdesk.auth.principals import Principal
from frontdesk.clock import Clock


class SessionCache:
    def __init__(self, clock: Clock, *, ttl: float, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        # token digest -> (principal, valid until); jti -> token digests
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._by_jti: dict[str, set[bytes]] = {}
        self._suspended = False

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.blake2b(token.encode(), digest_size=16).digest()

    def get(self, token: str) -> Principal | None:
        if self._ttl <= 0 or self._suspended:
            return None
        key = self._key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, valid_until = entry
        if self._clock.now() >= valid_until:
            self._drop(key, principal.jti)
            return None
        return principal

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        if self._ttl <= 0 or self._suspended or principal.jti is None:
            return
        key = self._key(token)
        self._entries[key] = (principal, min(expires_at, self._clock.now() + self._ttl))
        self._entries.move_to_end(key)
        self._by_jti.setdefault(principal.jti, set()).add(key)
        while len(self._entries) > self._max:
            old_key, (old, _) = self._entries.popitem(last=False)
            self._forget(old_key, old.jti)

    def evict(self, jti: str) -> None:
        for key in self._by_jti.pop(jti, set()):
            self._entries.pop(key, None)

    def suspend(self) -> None:
        """Forget everything and cache nothing until ``resume``."""
        self._suspended = True
        self.clear()

    def resume(self) -> None:
        """Cache again, from empty: entries made before may have missed revocations."""
        self.clear()
        self._suspended = False

    def clear(self) -> None:
        self._entries.clear()
        self._by_jti.clear()

    def _drop(self, key: bytes, jti: str | None) -> None:
        self._entries.pop(key, None)
        self._forget(key, jti)

    def _forget(self, key: bytes, jti: str | None) -> None:
        if jti is None:
            return
        keys = self._by_jti.get(jti)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_jti[jti]

    def __len__(self) -> int:
        return len(self._entries)
