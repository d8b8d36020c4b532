"""Storage tests' set-up: a schema as it was before a given migration (backfill tests), and
the project row every other row refers to."""

from __future__ import annotations

import pytest

from frontdesk.storage import migrate as migrations
from frontdesk.storage.database import Database, Queries


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


async def add_project(q: Queries, project_id: str) -> None:
    """A bare project row, for the rows a test writes to refer to."""
    await q.execute(
        "INSERT INTO projects (id, name, settings, created_at, updated_at)"
        " VALUES ($1, 'p', '{}', 0, 0)", project_id)
