"""Identifiers: 24-hex object ids (the shape Tiledesk clients expect), request ids, visitor UUIDs.

Object ids sort by creation time (4 bytes of seconds first, then a per-process counter), so
``ORDER BY id`` is creation order within a second and pagination by id is stable.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Protocol

# Always applied with fullmatch: ``$`` alone would also accept a trailing newline.
OBJECT_ID_RE = re.compile(r"^[0-9a-f]{24}$")
REQUEST_ID_RE = re.compile(r"^support-group-([0-9a-f]{24})-([0-9A-Za-z]{32})$")
VISITOR_ID_RE = re.compile(r"^[A-Za-z0-9._:@|+-]{1,128}$")


class IdGenerator(Protocol):
    def object_id(self) -> str: ...

    def visitor_uuid(self) -> str: ...


class RandomIds:
    """Production ids: time-ordered object ids and UUID v4 visitors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process = os.urandom(5)
        self._counter = int.from_bytes(os.urandom(3), "big")

    def object_id(self) -> str:
        with self._lock:
            self._counter = (self._counter + 1) & 0xFFFFFF
            counter = self._counter
        return (
            int(time.time()).to_bytes(4, "big") + self._process + counter.to_bytes(3, "big")
        ).hex()

    def visitor_uuid(self) -> str:
        h = uuid4_hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4_hex() -> str:
    """``uuid.uuid4().hex``, without building a ``UUID``: 16 random bytes with the version
    (4) and variant (RFC 4122) bits set as ``uuid4`` sets them."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def ordered_hex(now_ms: int) -> str:
    """32 hex digits that sort by creation time: the millisecond (48 bits), then 80 random
    bits. A key that grows with time goes into the last page of its index, which the
    transactions of a group commit share, where a random one lands on a page of its own for
    each insert, which SQLite must often read first and then write whole to the WAL
    (docs/performance.md)."""
    return f"{now_ms & 0xFFFF_FFFF_FFFF:012x}{os.urandom(10).hex()}"


def is_object_id(value: str) -> bool:
    return bool(OBJECT_ID_RE.fullmatch(value))


def parse_request_id(value: str) -> str | None:
    """The project id a request id names, or None when it is not a well-formed request id."""
    match = REQUEST_ID_RE.fullmatch(value)
    return match.group(1) if match else None


def new_request_id(project_id: str) -> str:
    return f"support-group-{project_id}-{uuid4_hex()}"


def is_visitor_id(value: str) -> bool:
    """Visitor ids are UUIDs for anonymous visitors, the customer's own id otherwise."""
    return bool(VISITOR_ID_RE.fullmatch(value))
