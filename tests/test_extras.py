"""PostgreSQL and Redis are extras: a setting that needs a missing one says what to install."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from frontdesk.app import create_app
from frontdesk.errors import ConfigurationError
from frontdesk.storage.database import open_database
from tests.conftest import make_settings


def test_a_postgresql_url_without_asyncpg_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    with pytest.raises(ConfigurationError) as info:
        asyncio.run(open_database("postgresql://127.0.0.1:1/none"))
    assert "FRONTDESK_DATABASE_URL" in info.value.message
    assert "frontdesk[postgres]" in info.value.message


def test_a_redis_url_without_redis_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'fd.db'}", redis_url="redis://127.0.0.1:1/0"
    )
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ConfigurationError) as info, TestClient(create_app(settings)):
        pass
    assert "FRONTDESK_REDIS_URL" in info.value.message
    assert "frontdesk[redis]" in info.value.message


def test_sqlite_and_one_process_need_neither(tmp_path: Path) -> None:
    # A fresh interpreter in which neither package can be imported, as on a base install.
    program = f"""
import sys
sys.modules["asyncpg"] = None
sys.modules["redis"] = None
from starlette.testclient import TestClient
from frontdesk.app import create_app
from frontdesk.settings import Settings
settings = Settings(data_dir={str(tmp_path)!r}, secret="x" * 48)
with TestClient(create_app(settings)) as client:
    print(client.get("/openapi.json").status_code)
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "200"
