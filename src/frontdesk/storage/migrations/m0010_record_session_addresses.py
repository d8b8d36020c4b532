"""Sessions record the client address they were signed in from (behind a trusted proxy, the
forwarded one)."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return ["ALTER TABLE sessions ADD COLUMN ip TEXT"]
