"""Apply pending schema migrations, each in its own transaction."""

from __future__ import annotations

import importlib
import pkgutil
import time
from types import ModuleType

from frontdesk.storage import migrations
from frontdesk.storage.database import Database

# Any fixed number: two processes starting together take turns on this lock in PostgreSQL.
_PG_LOCK_ID = 7_311_024


def available() -> list[tuple[str, ModuleType]]:
    names = sorted(m.name for m in pkgutil.iter_modules(migrations.__path__))
    return [(name, importlib.import_module(f"{migrations.__name__}.{name}")) for name in names]


async def applied(db: Database) -> set[str]:
    rows = await db.fetch_all("SELECT version FROM schema_migrations")
    return {r["version"] for r in rows}


async def migrate(db: Database) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now."""
    async with db.transaction() as tx:
        # CREATE TABLE IF NOT EXISTS is not safe against itself in PostgreSQL: two processes
        # racing here both try to create the table's row type. Take turns from the start.
        if tx.dialect == "postgresql":
            await tx.execute("SELECT pg_advisory_xact_lock($1)", _PG_LOCK_ID)
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
        )
    done_now: list[str] = []
    for name, module in available():
        async with db.transaction() as tx:
            if tx.dialect == "postgresql":
                await tx.execute("SELECT pg_advisory_xact_lock($1)", _PG_LOCK_ID)
            if await tx.fetch_one("SELECT 1 FROM schema_migrations WHERE version = $1", name):
                continue
            for statement in module.statements(tx.dialect):
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                name,
                int(time.time() * 1000),
            )
            done_now.append(name)
    return done_now
