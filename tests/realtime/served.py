"""``frontdesk serve`` in a child process, for tests that look at the process from outside:
its resident memory, its log, its signals, several processes sharing a database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import REDIS_URL, require_service
from tests.live import free_port

TEST_SECRET = "test-secret-" + "y" * 40
# Argon2id at its cheapest: tests that sign in many times need not pay the real cost.
CHEAP_HASHING = {
    "FRONTDESK_PASSWORD_HASH_MEMORY_KIB": "1024",
    "FRONTDESK_PASSWORD_HASH_TIME_COST": "1",
}


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    group: bool = False  # the process leads a session of its own (``--workers``)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_bytes(self) -> int:
        """Resident memory of the server process now (VmRSS of /proc/<pid>/status)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS for the server process")

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (to the whole session when ``group``), then SIGKILL past ``timeout``."""
        if self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def _signal(self, number: signal.Signals) -> None:
        if self.group:
            os.killpg(self.pid, number)
        else:
            self.process.send_signal(number)


def variables(settings: Mapping[str, str]) -> dict[str, str]:
    """``FRONTDESK_*`` environment variables for settings named in lower case."""
    return {"FRONTDESK_" + name.upper(): value for name, value in settings.items()}


def process_env(settings: Mapping[str, str], *, clean: bool = False) -> dict[str, str]:
    """This process's environment with ``settings`` on top; ``clean`` leaves out its own
    ``FRONTDESK_*`` variables (such as FRONTDESK_CHECK_RESPONSES) first."""
    inherited = {k: v for k, v in os.environ.items() if not (clean and k.startswith("FRONTDESK_"))}
    return {**inherited, **settings}


def shared_env(database_url: str, **settings: str) -> dict[str, str]:
    """``FRONTDESK_*`` variables for processes sharing ``database_url`` and Redis on a channel
    of their own, with the test secret, cheap password hashing and warning-level logs;
    ``settings`` (lower-case setting names) add to them or replace them. Skips the test
    when Redis is not running (fails it in CI)."""
    require_service("Redis", "127.0.0.1", 6379)
    return {
        "FRONTDESK_DATABASE_URL": database_url,
        "FRONTDESK_REDIS_URL": REDIS_URL,
        "FRONTDESK_REDIS_CHANNEL": "frontdesk-test:" + uuid.uuid4().hex,
        "FRONTDESK_SECRET": TEST_SECRET,
        **CHEAP_HASHING,
        "FRONTDESK_LOG_LEVEL": "warning",
        **variables(settings),
    }


def start(
    env: Mapping[str, str],
    log: Path,
    *args: str,
    port: int | None = None,
    probe: str = "/openapi.json",
    timeout: float = 30,
    append: bool = False,
    **popen: Any,
) -> Served:
    """``frontdesk serve --port <port> *args`` with exactly ``env``, its output in ``log``;
    returns once ``probe`` answers 200. A process that exits first, or does not answer within
    ``timeout`` (then it is killed), is a RuntimeError with its log. ``start_new_session=True``
    among ``popen`` makes it a group, stopped as one."""
    port = port or free_port()
    with log.open("ab" if append else "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontdesk", "serve", "--port", str(port), *args],
            env=dict(env), stdout=out, stderr=subprocess.STDOUT, **popen,
        )
    server = Served(process, port, log, group=bool(popen.get("start_new_session")))
    deadline = time.monotonic() + timeout
    while True:  # wait for the port to answer, within a bound
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            if httpx.get(server.url + probe, timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server._signal(signal.SIGKILL)
            process.wait(timeout=10)
            raise RuntimeError("server did not start:\n" + log.read_text())
        time.sleep(0.1)


@contextmanager
def serving(env: Mapping[str, str], log: Path, *args: str, **options: Any) -> Iterator[Served]:
    """``start`` for the length of the block, then ``stop``."""
    server = start(env, log, *args, **options)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def served(tmp_path: Path, **env: str) -> Iterator[Served]:
    """A server on SQLite in ``tmp_path``, with ``FRONTDESK_*`` overrides in ``env``."""
    environment = process_env({
        "FRONTDESK_DATA_DIR": str(tmp_path / "data"),
        "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'fd.db'}",
        "FRONTDESK_SECRET": TEST_SECRET,
        **CHEAP_HASHING,
        "FRONTDESK_LOG_LEVEL": "warning",
        **variables(env),
    })
    with serving(environment, tmp_path / "server.log") as server:
        yield server


@contextmanager
def two_served(tmp_path: Path, env: Mapping[str, str]) -> Iterator[tuple[Served, Served]]:
    """Two processes with ``env`` (FRONTDESK_* variables on top of this process's), data in
    ``tmp_path``/a and /b, logs in a.log and b.log; the first migrates the database before the
    second starts."""
    with (
        serving(process_env({**env, "FRONTDESK_DATA_DIR": str(tmp_path / "a")}),
                tmp_path / "a.log") as first,
        serving(process_env({**env, "FRONTDESK_DATA_DIR": str(tmp_path / "b")}),
                tmp_path / "b.log") as second,
    ):
        yield first, second
