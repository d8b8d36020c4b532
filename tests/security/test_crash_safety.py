"""Crash safety: ``frontdesk serve`` killed with SIGKILL mid-traffic loses nothing it answered.

A real server process takes messages from a few client threads; it is killed at random
moments and restarted. Afterwards every message that got a 200 is stored exactly once, and no
conversation is half-created (each has its lead and its first message; no message is orphaned).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.storage.database import open_database
from tests.live import free_port

SENDERS = 3
KILLS = 3
MESSAGES_PER_REQUEST = 4


class ServerProcess:
    """``frontdesk serve`` on a loopback port, restartable after a SIGKILL."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FRONTDESK_DATABASE_URL": database_url,
            "FRONTDESK_DATA_DIR": str(data_dir),
            "FRONTDESK_PORT": str(self.port),
            "FRONTDESK_SECRET": "crash-test-secret-" + "y" * 40,
            "FRONTDESK_PASSWORD_HASH_MEMORY_KIB": "1024",
            "FRONTDESK_PASSWORD_HASH_TIME_COST": "1",
            "FRONTDESK_LOG_LEVEL": "warning",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "frontdesk", "serve"]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "frontdesk serve exited at start"
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("frontdesk serve did not become healthy within 30 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown hook runs
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path / "data")
    process.start()
    yield process
    process.stop()


@dataclass
class Sender:
    """One visitor sending numbered messages, opening a new conversation every few."""

    url: str
    project_id: str
    token: str
    name: str
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    failures: int = 0

    def run(self, stop: threading.Event) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            n = 0
            rid = self._new_request_id()
            while not stop.is_set():
                if n and n % MESSAGES_PER_REQUEST == 0:
                    rid = self._new_request_id()
                text = f"{self.name}-{n}"
                n += 1
                try:
                    response = client.post(
                        f"/{self.project_id}/requests/{rid}/messages",
                        json={"text": text},
                        headers={"Authorization": self.token},
                    )
                except httpx.HTTPError:
                    self.failures += 1
                    time.sleep(0.05)
                    continue
                if response.status_code == 200:
                    self.acknowledged.append((rid, text))

    def _new_request_id(self) -> str:
        return f"support-group-{self.project_id}-{uuid.uuid4().hex}"


def _set_up(url: str) -> tuple[str, list[str]]:
    with httpx.Client(base_url=url, timeout=10) as client:
        credentials = {"email": "crash@example.com", "password": "long enough pw"}
        assert client.post("/auth/signup", json=credentials).status_code == 200
        token = client.post("/auth/signin", json=credentials).json()["token"]
        project = client.post("/projects", json={"name": "Crash"}, headers={"Authorization": token})
        project_id = project.json()["_id"]
        tokens = [
            client.post("/auth/signinAnonymously", json={"id_project": project_id}).json()["token"]
            for _ in range(SENDERS)
        ]
    return project_id, tokens


async def _stored(database_url: str) -> dict[str, Any]:
    db = await open_database(database_url)
    try:
        return {
            "messages": await db.fetch_all("SELECT request_id, text FROM messages"),
            "requests": await db.fetch_all(
                "SELECT r.request_id, r.first_text, r.lead_ref, l.id AS lead"
                " FROM requests r LEFT JOIN leads l ON l.id = r.lead_ref"
            ),
            "orphans": await db.fetch_value(
                "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS"
                " (SELECT 1 FROM requests r WHERE r.request_id = m.request_id)"
            ),
        }
    finally:
        await db.close()


def test_killed_server_keeps_every_acknowledged_message_once(
    server: ServerProcess, database_url: str
) -> None:
    project_id, tokens = _set_up(server.url)
    senders = [Sender(server.url, project_id, t, f"s{i}") for i, t in enumerate(tokens)]
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in senders]
    for thread in threads:
        thread.start()
    rng = random.Random(8)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.4, 1.2))
            server.kill()
            server.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    server.kill()

    stored = asyncio.run(_stored(database_url))
    acknowledged = [pair for s in senders for pair in s.acknowledged]
    assert len(acknowledged) > 20, "too little traffic got through to test anything"
    assert sum(s.failures for s in senders) > 0, "no request was cut by a kill"
    stored_pairs = [(m["request_id"], m["text"]) for m in stored["messages"]]
    counts = {pair: stored_pairs.count(pair) for pair in set(stored_pairs)}
    lost = [pair for pair in acknowledged if pair not in counts]
    duplicated = [pair for pair, n in counts.items() if n > 1]
    assert not lost, f"{len(lost)} acknowledged messages were lost: {lost[:5]}"
    assert not duplicated, f"messages stored twice: {duplicated[:5]}"
    assert stored["orphans"] == 0
    firsts = {(m["request_id"], m["text"]) for m in stored["messages"]}
    for request in stored["requests"]:
        assert request["lead"] is not None, f"{request['request_id']} has no lead"
        assert (request["request_id"], request["first_text"]) in firsts, (
            f"{request['request_id']} has lost its first message"
        )
