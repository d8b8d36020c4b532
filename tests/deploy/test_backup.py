"""``frontdesk backup FILE``: a consistent copy of a serving SQLite database, under writes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

from tests.realtime.served import served


def _frontdesk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", *args],
        env=env, text=True, capture_output=True, timeout=60, check=False,
    )


class Writer:
    """An agent replying as fast as the server answers; remembers when each reply was answered."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)
        email = f"agent-{uuid.uuid4().hex[:8]}@example.com"
        creds = {"email": email, "password": "correct horse 1"}
        assert self.http.post("/auth/signup", json={**creds, "firstname": "Ada"}).is_success
        self.token = self.http.post("/auth/signin", json=creds).json()["token"]
        project = self.http.post(
            "/projects", json={"name": "Acme"}, headers={"Authorization": self.token}
        )
        self.project_id = project.json()["_id"]
        visitor = self.http.post("/auth/signinAnonymously", json={"id_project": self.project_id})
        self.request_ids = [
            f"support-group-{self.project_id}-{uuid.uuid4().hex}" for _ in range(3)
        ]
        for rid in self.request_ids:  # the visitor opens the conversations the agent answers
            opened = self.http.post(
                f"/{self.project_id}/requests/{rid}/messages",
                json={"text": "hello"},
                headers={"Authorization": visitor.json()["token"]},
            )
            assert opened.status_code == 200, opened.text
        self.answered: list[tuple[float, str]] = []
        self.refused: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            self._write()
        finally:
            self.http.close()

    def _write(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            rid = self.request_ids[n % len(self.request_ids)]
            r = self.http.post(
                f"/{self.project_id}/requests/{rid}/messages",
                json={"text": f"reply {n}"},
                headers={"Authorization": self.token},
            )
            if r.status_code != 200:
                self.refused.append(r.text)
                return
            self.answered.append((time.monotonic(), r.json()["_id"]))


def test_a_backup_under_writes_holds_every_message_answered_before_it(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        writer = Writer(server.url)
        writing = threading.Thread(target=writer.run)
        writing.start()
        try:
            deadline = time.monotonic() + 30
            while len(writer.answered) < 50 and writing.is_alive():
                assert time.monotonic() < deadline, "the writer is stuck"
                time.sleep(0.05)
            env = {**os.environ, "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'fd.db'}"}
            backup = tmp_path / "backups" / "frontdesk.db"
            backup.parent.mkdir()
            began = time.monotonic()
            done = _frontdesk("backup", str(backup), env=env)
            ended = time.monotonic()
            time.sleep(0.2)  # writes go on after the backup, too
        finally:
            writer.stop.set()
            writing.join(timeout=30)
        assert done.returncode == 0, done.stderr
        assert writer.refused == []
        before = {mid for at, mid in writer.answered if at < began}
        after = {mid for at, mid in writer.answered if at > ended}
        assert len(before) >= 50 and after

    assert sorted(p.name for p in backup.parent.iterdir()) == ["frontdesk.db"]
    with contextlib.closing(sqlite3.connect(backup)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = {row[0] for row in copy.execute("SELECT id FROM messages")}
        orphans = copy.execute(
            "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS"
            " (SELECT 1 FROM requests r WHERE r.request_id = m.request_id)"
        ).fetchone()
    assert before <= stored
    assert not after <= stored  # a copy as of its start, not of the live file at the end
    assert orphans == (0,)


def test_backup_of_a_postgresql_database_points_at_pg_dump(tmp_path: Path) -> None:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": "postgresql://db.example/frontdesk"}
    done = _frontdesk("backup", str(tmp_path / "copy.db"), env=env)
    assert done.returncode == 2
    assert "pg_dump" in done.stderr
    assert not (tmp_path / "copy.db").exists()


def test_backup_refuses_a_database_that_is_not_there(tmp_path: Path) -> None:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'missing.db'}"}
    done = _frontdesk("backup", str(tmp_path / "copy.db"), env=env)
    assert done.returncode == 2
    assert "no SQLite database" in done.stderr
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "copy.db").exists()
