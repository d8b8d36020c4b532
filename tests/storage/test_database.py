"""The database layer on both backends: migrations, transactions, commit hooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from frontdesk.storage.database import open_database
from frontdesk.storage.migrate import available, migrate


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_migrations_apply_once_and_record_themselves(database_url: str) -> None:
    async def scenario() -> tuple[list[str], list[str], set[str]]:
        db = await open_database(database_url)
        try:
            first = await migrate(db)
            second = await migrate(db)
            rows = await db.fetch_all("SELECT version FROM schema_migrations")
            return first, second, {r["version"] for r in rows}
        finally:
            await db.close()

    first, second, recorded = _run(scenario())
    names = [name for name, _ in available()]
    assert first == names and second == [] and recorded == set(names)


def test_rollback_leaves_nothing_and_hooks_run_only_after_commit(database_url: str) -> None:
    async def scenario() -> tuple[list[str], int]:
        db = await open_database(database_url)
        fired: list[str] = []
        try:
            await migrate(db)
            with pytest.raises(RuntimeError):
                async with db.transaction() as tx:
                    await tx.execute(
                        "INSERT INTO projects (id, name, settings, created_at, updated_at)"
                        " VALUES ($1, $2, '{}', 0, 0)",
                        "a" * 24,
                        "doomed",
                    )
                    tx.on_commit(lambda: fired.append("rolled-back"))
                    raise RuntimeError("boom")
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO projects (id, name, settings, created_at, updated_at)"
                    " VALUES ($1, $2, '{}', 0, 0)",
                    "b" * 24,
                    "kept",
                )
                tx.on_commit(lambda: fired.append("committed"))
                assert fired == []  # not before the commit
            count = await db.fetch_value("SELECT COUNT(*) FROM projects")
            return fired, int(count)
        finally:
            await db.close()

    fired, count = _run(scenario())
    assert fired == ["committed"] and count == 1


def test_concurrent_transactions_serialise_correctly(database_url: str) -> None:
    async def scenario() -> int:
        db = await open_database(database_url)
        try:
            await migrate(db)
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO projects (id, name, settings, created_at, updated_at)"
                    " VALUES ($1, 'p', '{}', 0, 0)",
                    "c" * 24,
                )

            async def bump() -> None:
                async with db.transaction() as tx:
                    await tx.execute(
                        "UPDATE projects SET updated_at = updated_at + 1 WHERE id = $1", "c" * 24
                    )

            await asyncio.gather(*(bump() for _ in range(20)))
            return int(await db.fetch_value("SELECT updated_at FROM projects"))
        finally:
            await db.close()

    assert _run(scenario()) == 20
