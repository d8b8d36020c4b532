"""``frontdesk serve`` in a child process, for tests that look at the process from outside:
its resident memory, its log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.live import free_port


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def rss_bytes(self) -> int:
        """Resident memory of the server process now (VmRSS of /proc/<pid>/status)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS for the server process")


@contextmanager
def served(tmp_path: Path, **env: str) -> Iterator[Served]:
    """A server on SQLite in ``tmp_path``, with ``FRONTDESK_*`` overrides in ``env``."""
    port = free_port()
    log = tmp_path / "server.log"
    environment = {
        **os.environ,
        "FRONTDESK_DATA_DIR": str(tmp_path / "data"),
        "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'fd.db'}",
        "FRONTDESK_SECRET": "test-secret-" + "z" * 40,
        "FRONTDESK_PASSWORD_HASH_MEMORY_KIB": "1024",
        "FRONTDESK_PASSWORD_HASH_TIME_COST": "1",
        "FRONTDESK_LOG_LEVEL": "warning",
        **{"FRONTDESK_" + name.upper(): value for name, value in env.items()},
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)],
            env=environment, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the port to answer, within a bound
            if process.poll() is not None:
                raise RuntimeError(log.read_text())
            try:
                if httpx.get(server.url + "/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + log.read_text())
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
