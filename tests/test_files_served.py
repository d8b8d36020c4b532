"""Files through real ``frontdesk serve`` processes: shared between processes on PostgreSQL,
and refused by size before the body is read."""

from __future__ import annotations

import io
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.realtime.served import (
    CHEAP_HASHING,
    TEST_SECRET,
    process_env,
    served,
    shared_env,
    two_served,
)


def _signed_in_visitor(client: httpx.Client) -> tuple[str, dict[str, str], dict[str, str]]:
    """(project id, owner headers, visitor headers) on a fresh project."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse 1"
    assert client.post("/auth/signup", json={"email": email, "password": password}
                       ).status_code == 200
    owner = {"Authorization": client.post(
        "/auth/signin", json={"email": email, "password": password}).json()["token"]}
    pid = client.post("/projects", json={"name": "Acme"}, headers=owner).json()["_id"]
    visitor = {"Authorization": client.post(
        "/auth/signinAnonymously", json={"id_project": pid}).json()["token"]}
    return pid, owner, visitor


def _picture() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 200), 60).convert("RGB").save(out, "PNG")
    return out.getvalue()


@pytest.mark.postgres
@pytest.mark.redis
def test_a_file_uploaded_through_one_process_is_read_through_another(
    tmp_path: Path, pg_schema: str
) -> None:
    big_text = b"".join(b"line %06d of a long log\n" % i for i in range(40_000))  # ~1 MB
    with (
        two_served(tmp_path, shared_env(pg_schema)) as (first, second),
        httpx.Client(base_url=first.url) as a,
        httpx.Client(base_url=second.url) as b,
    ):
        pid, owner, visitor = _signed_in_visitor(a)
        rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        sent: list[dict[str, Any]] = []
        for name, content, kind in (("shot.png", _picture(), "image"),
                                    ("server.log", big_text, "file")):
            r = a.post(f"/{pid}/files/chat", headers=visitor,
                       files={"file": (name, content, "application/octet-stream")})
            assert r.status_code == 200, r.text
            descriptor = r.json()
            r = a.post(f"/{pid}/requests/{rid}/messages", headers=visitor,
                       json={"type": kind, "text": name, "metadata": descriptor["metadata"]})
            assert r.status_code == 200, r.text
            sent.append(descriptor)
        picture, log = sent
        # The agent works on the other process, which has other data folders.
        view = b.get(picture["src"].replace(first.url, second.url), headers=owner).json()
        got = b.get(view["url"].replace(first.url, second.url))
        assert got.status_code == 200
        assert Image.open(io.BytesIO(got.content)).size == (300, 200)
        got = b.get(f"/{pid}/files/{log['_id']}/download", headers=owner)
        assert got.status_code == 200 and got.content == big_text
        # A URL signed by one process is good on the other (the same secret).
        assert b.get(log["url"].replace(first.url, second.url)).content == big_text
    assert not list(tmp_path.rglob("*.files"))  # the bytes are in the database


def test_a_declared_size_over_the_limit_is_refused_before_the_body_is_sent(
    tmp_path: Path,
) -> None:
    with served(tmp_path, max_upload_bytes="1000") as server:
        with httpx.Client(base_url=server.url) as client:
            pid, _, visitor = _signed_in_visitor(client)
        head = (
            f"POST /{pid}/files/chat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {visitor['Authorization']}\r\n"
            "Content-Type: multipart/form-data; boundary=xyz\r\n"
            "Content-Length: 50000000\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head)  # and not one byte of the 50 MB
            answer = ""
            while not answer.endswith("}"):
                received = sock.recv(65536).decode("latin-1")
                if not received:
                    break
                answer += received
        assert answer.startswith("HTTP/1.1 413"), answer
        assert '"code":"file_too_large"' in answer


def test_processes_sharing_a_sqlite_file_share_its_files(tmp_path: Path) -> None:
    env = process_env({
        "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "FRONTDESK_SECRET": TEST_SECRET,
        "FRONTDESK_LOG_LEVEL": "warning",
        **CHEAP_HASHING,
    })
    with (
        two_served(tmp_path, env) as (first, second),
        httpx.Client(base_url=first.url) as a,
        httpx.Client(base_url=second.url) as b,
    ):
        pid, owner, visitor = _signed_in_visitor(a)
        r = a.post(f"/{pid}/files/chat", headers=visitor,
                   files={"file": ("shot.png", _picture(), "image/png")})
        assert r.status_code == 200, r.text
        got = b.get(f"/{pid}/files/{r.json()['_id']}/download", headers=owner)
        assert got.status_code == 200 and Image.open(io.BytesIO(got.content)).size == (300, 200)
    assert (tmp_path / "shared.db.files" / r.json()["_id"] / "original").is_file()
