"""Requests count their changes: ``version`` goes up by one with every committed update, so
the events of one conversation can be told apart in commit order."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return ["ALTER TABLE requests ADD COLUMN version BIGINT NOT NULL DEFAULT 0"]
