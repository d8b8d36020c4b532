"""A database whose schema is as it was before a given migration, for backfill tests."""

from __future__ import annotations

import pytest

from frontdesk.storage import migrate as migrations
from frontdesk.storage.database import Database


async def migrate_before(db: Database, monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Apply only the migrations older than ``name``; the names of those left, ``name`` first
    (what a later ``migrate`` must then apply)."""
    everything = migrations.available()
    assert name in [n for n, _ in everything]
    with monkeypatch.context() as m:
        m.setattr(migrations, "available",
                  lambda: [(n, mod) for n, mod in everything if n < name])
        await migrations.migrate(db)
    return [n for n, _ in everything if n >= name]
