"""Several processes starting together on one PostgreSQL database migrate it once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from frontdesk.storage.migrate import available
from tests.live import free_port

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
    failed = [err[-2000:] for p, (_, err) in zip(processes, outputs, strict=True) if p.returncode]
    assert not failed, "\n".join(failed)

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


def test_four_servers_starting_together_on_a_fresh_schema_all_serve(
    tmp_path: Path, pg_schema: str
) -> None:
    ports = [free_port() for _ in range(4)]
    env = {**os.environ, "FRONTDESK_DATABASE_URL": pg_schema,
           "FRONTDESK_SECRET": "test-secret-" + "m" * 40, "FRONTDESK_LOG_LEVEL": "warning"}
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)],
            env={**env, "FRONTDESK_DATA_DIR": str(tmp_path / str(port))},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        waiting = set(ports)
        deadline = time.monotonic() + 60
        while waiting:
            for server in servers:
                assert server.poll() is None, server.communicate()[1]
            for port in list(waiting):
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                        waiting.discard(port)
            assert time.monotonic() < deadline, f"not serving: {waiting}"
            time.sleep(0.1)
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=30)
    recorded, _ = asyncio.run(_schema(pg_schema))
    assert recorded == [name for name, _ in available()]


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
