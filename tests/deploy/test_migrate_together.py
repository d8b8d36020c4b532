"""Several processes starting together on one PostgreSQL database migrate it once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from frontdesk.storage.migrate import available

pytestmark = pytest.mark.postgres


def test_four_processes_migrating_a_fresh_schema_apply_each_migration_once(
    tmp_path: Path, pg_schema: str
) -> None:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": pg_schema,
           "FRONTDESK_DATA_DIR": str(tmp_path / "data")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "frontdesk", "migrate"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs

    applied: list[str] = []
    for out, _ in outputs:
        listed = out.strip().removeprefix("applied: ")
        if not listed.startswith("nothing"):
            applied += listed.split(", ")
    names = [name for name, _ in available()]
    assert sorted(applied) == names  # each applied by exactly one of the four

    recorded, tables = asyncio.run(_schema(pg_schema))
    assert recorded == names
    assert {"users", "projects", "requests", "messages", "invitations"} <= tables


async def _schema(url: str) -> tuple[list[str], set[str]]:
    base, _, search_path = url.partition("?search_path=")
    conn = await asyncpg.connect(base, server_settings={"search_path": search_path})
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations")
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
            search_path,
        )
    finally:
        await conn.close()
    return sorted(r["version"] for r in rows), {t["table_name"] for t in tables}
