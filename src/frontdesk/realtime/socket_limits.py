"""How many sockets a session and a client address may hold open, and the frame budget the
sockets of one session share.

Without these, one signed-in visitor could open any number of sockets, each with its own
send queue and its own frame budget: memory grows with the sockets, and so do the typing
frames that reach an agent. Counts are per server process, from accept (address) or
authentication (session) until the client disconnects, so a socket that is closing but still
connected keeps counting.
"""

from __future__ import annotations

from collections import Counter

from frontdesk.errors import RateLimited
from frontdesk.realtime.connection import Connection
from frontdesk.realtime.rate_limit import FrameBudgets, session_key
from frontdesk.settings import Settings


class SocketLimits:
    def __init__(self, settings: Settings, budgets: FrameBudgets) -> None:
        self._budgets = budgets
        self._per_session = settings.ws_sockets_per_session
        self._per_address = settings.ws_sockets_per_address  # 0: unlimited
        self._sessions: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()
        self._session_of: dict[Connection, str] = {}
        self._address_of: dict[Connection, str] = {}

    def admit_address(self, conn: Connection) -> RateLimited | None:
        """Count ``conn`` against its client address; the refusal when that has too many."""
        client = conn.websocket.client
        address = client.host if client is not None else "unknown"
        if self._per_address and self._addresses[address] >= self._per_address:
            return _too_many(f"at most {self._per_address} open sockets per client address")
        self._addresses[address] += 1
        self._address_of[conn] = address
        return None

    def admit_session(self, conn: Connection, session: str) -> RateLimited | None:
        """Count ``conn`` against its (verified) session and let it spend that session's
        frame budget from now on; the refusal when the session has too many sockets."""
        if conn in self._session_of:
            return None
        if self._sessions[session] >= self._per_session:
            return _too_many(f"at most {self._per_session} open sockets per session")
        self._sessions[session] += 1
        self._session_of[conn] = session
        conn.budget_key = session_key(session)
        return None

    def release(self, conn: Connection) -> None:
        """Stop counting ``conn`` (its client disconnected); idempotent."""
        address = self._address_of.pop(conn, None)
        if address is not None:
            _decrement(self._addresses, address)
        session = self._session_of.pop(conn, None)
        if session is not None and _decrement(self._sessions, session) == 0:
            self._budgets.forget(session_key(session))


def _decrement(counts: Counter[str], key: str) -> int:
    counts[key] -= 1
    left = counts[key]
    if left <= 0:
        del counts[key]
    return left


def _too_many(message: str) -> RateLimited:
    return RateLimited(message + "; close one first", code="too_many_sockets")
