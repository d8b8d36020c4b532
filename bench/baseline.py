"""The baseline: a bare ASGI app that does frontdesk's database work with the raw driver.

Served by the same server software (``uvicorn --factory bench.baseline:app``), on the same
tables, it answers the benchmarked paths with no framework, no authentication and no
validation: the visitor id is read from the token's payload without checking its signature,
bodies are parsed but not validated, the token it hands out is an opaque random string. What
is left is the floor: HTTP parsing, JSON, and the same rows written or read per request.

Environment: ``BENCH_DATABASE_URL`` (``sqlite:///path`` or ``postgresql://…?search_path=s``).
"""

from __future__ import annotations

import base64
import os
import secrets
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_LIST_COLUMNS = (
    "r.id, r.request_id, r.status, r.participants, r.first_text, r.last_text, r.attributes,"
    " r.is_authenticated, r.created_at, r.updated_at, r.requester_user_id, pu.role,"
    " l.id AS lead_id, l.fullname, l.email"
)


def _oid() -> str:
    return secrets.token_hex(12)


def _unverified_subject(header: bytes) -> str:
    payload = header.split(b" ", 1)[-1].split(b".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    return str(claims["_id"])


class _SQLite:
    """Synchronous sqlite3 on the event loop: the cheapest way to drive SQLite from asyncio."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
            self.conn.execute(f"PRAGMA {pragma}")

    async def write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            for sql, args in statements:
                c.execute(sql.replace("$", "?"), args)
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql.replace("$", "?"), args).fetchall()

    async def post_message(self, pid: str, rid: str, visitor: str, text: str, now: int) -> str:
        c = self.conn
        message_id = _oid()
        c.execute("BEGIN IMMEDIATE")
        try:
            row = c.execute("SELECT id FROM requests WHERE request_id = ?", (rid,)).fetchone()
            if row is None:
                row = (_create_request_statements(c.execute, pid, rid, visitor, text, now),)
            c.execute(_INSERT_MESSAGE.replace("$", "?"), (message_id, pid, rid, visitor, text, now))
            c.execute(
                "UPDATE requests SET last_text = ?, updated_at = ? WHERE id = ?",
                (text, now, row[0]),
            )
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
        return message_id

    async def close(self) -> None:
        self.conn.close()


def _create_request_statements(
    execute: Callable[..., Any], pid: str, rid: str, visitor: str, text: str, now: int
) -> str:
    pu = execute(
        "SELECT id FROM project_users WHERE project_id = ? AND user_id = ?", (pid, visitor)
    ).fetchone()
    lead_ref = _oid()
    execute(_INSERT_LEAD.replace("$", "?"), (lead_ref, pid, visitor, now))
    request_ref = _oid()
    execute(
        _INSERT_REQUEST.replace("$", "?"),
        (request_ref, pid, rid, pu[0], visitor, lead_ref, text, now),
    )
    return request_ref


_INSERT_LEAD = (
    "INSERT INTO leads (id, project_id, lead_id, attributes, created_at, updated_at)"
    " VALUES ($1, $2, $3, '{}', $4, $4)"
)
_INSERT_REQUEST = (
    "INSERT INTO requests (id, project_id, request_id, requester_id, requester_user_id, lead_ref,"
    " status, first_text, last_text, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, 100, $7, $7, $8, $8)"
)
_INSERT_MESSAGE = (
    "INSERT INTO messages (id, project_id, request_id, sender, text, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)


class _Postgres:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, url: str) -> _Postgres:
        import asyncpg

        return cls(await asyncpg.create_pool(url, min_size=2, max_size=10))

    async def write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            for sql, args in statements:
                await conn.execute(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.pool.fetch(sql, *args))

    async def post_message(self, pid: str, rid: str, visitor: str, text: str, now: int) -> str:
        message_id = _oid()
        async with self.pool.acquire() as conn, conn.transaction():
            ref = await conn.fetchval("SELECT id FROM requests WHERE request_id = $1", rid)
            if ref is None:
                pu = await conn.fetchval(
                    "SELECT id FROM project_users WHERE project_id = $1 AND user_id = $2",
                    pid,
                    visitor,
                )
                lead_ref, ref = _oid(), _oid()
                await conn.execute(_INSERT_LEAD, lead_ref, pid, visitor, now)
                await conn.execute(_INSERT_REQUEST, ref, pid, rid, pu, visitor, lead_ref, text, now)
            await conn.execute(_INSERT_MESSAGE, message_id, pid, rid, visitor, text, now)
            await conn.execute(
                "UPDATE requests SET last_text = $1, updated_at = $2 WHERE id = $3", text, now, ref
            )
        return message_id

    async def close(self) -> None:
        await self.pool.close()


class Baseline:
    def __init__(self, url: str) -> None:
        self.url = url
        self.db: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        result = await self._route(scope["method"], scope["path"], scope, headers, body)
        payload = orjson.dumps(result)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.url.startswith("postgres"):
                    self.db = await _Postgres.connect(self.url)
                else:
                    self.db = _SQLite(self.url[len("sqlite:///") :])
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.db.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(
        self, method: str, path: str, scope: Scope, headers: dict[bytes, bytes], body: bytes
    ) -> Any:
        now = int(time.time() * 1000)
        parts = path.strip("/").split("/")
        if path == "/auth/signinAnonymously":
            return await self._signin(
                orjson.loads(body)["id_project"], str(uuid.uuid4()), "guest", now
            )
        if path == "/auth/signinWithCustomToken":
            claims_subject = _unverified_subject(headers[b"authorization"])
            payload = headers[b"authorization"].split(b".")[1]
            claims = orjson.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
            pid = str(claims["aud"]).rsplit("/", 1)[-1]
            return await self._signin(pid, claims_subject, "user", now)
        if method == "POST" and len(parts) == 4 and parts[3] == "messages":
            visitor = _unverified_subject(headers[b"authorization"])
            text = str(orjson.loads(body)["text"])
            message_id = await self.db.post_message(parts[0], parts[2], visitor, text, now)
            return {
                "_id": message_id,
                "sender": visitor,
                "recipient": parts[2],
                "text": text,
                "createdAt": now,
            }
        if method == "GET" and len(parts) == 2 and parts[1] == "requests":
            return await self._list(parts[0], parse_qs(scope["query_string"].decode()))
        return {"error": "no such path in the baseline"}

    async def _signin(self, pid: str, visitor: str, role: str, now: int) -> dict[str, Any]:
        profile = orjson.dumps({"firstname": "guest#" + visitor[:4]}).decode()
        jti = uuid.uuid4().hex
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO project_users (id, project_id, user_id, role, profile, created_at,"
                " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)"
                " ON CONFLICT (project_id, user_id) DO UPDATE SET profile = excluded.profile,"
                " updated_at = excluded.updated_at",
                (_oid(), pid, visitor, role, profile, now),
            ),
            (
                "INSERT INTO sessions (jti, project_id, subject_id, kind, issued_at, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                (jti, pid, visitor, role, now, now + 86_400_000),
            ),
        ]
        if role == "user":
            statements.append(
                (
                    "INSERT INTO leads (id, project_id, lead_id, attributes, is_authenticated,"
                    " created_at, updated_at) VALUES ($1, $2, $3, '{}', 1, $4, $4)"
                    " ON CONFLICT (project_id, lead_id) DO UPDATE SET"
                    " updated_at = excluded.updated_at",
                    (_oid(), pid, visitor, now),
                )
            )
        await self.db.write(statements)
        return {
            "success": True,
            "token": "JWT " + secrets.token_urlsafe(32),
            "user": {"_id": visitor, "id": visitor},
        }

    async def _list(self, pid: str, query: dict[str, list[str]]) -> dict[str, Any]:
        limit = int(query.get("limit", ["40"])[0])
        # The open queue as agents see it (none held back for verification), spelled as
        # frontdesk spells it, so both read the same partial index (migration m0020).
        where = "r.project_id = $1 AND r.status < 1000 AND r.held_tier IS NULL"
        rows = await self.db.fetch(
            f"SELECT {_LIST_COLUMNS} FROM requests r"
            " JOIN project_users pu ON pu.id = r.requester_id"
            f" LEFT JOIN leads l ON l.id = r.lead_ref WHERE {where}"
            " ORDER BY r.updated_at DESC, r.id DESC LIMIT $2",
            pid,
            limit,
        )
        count = (await self.db.fetch(f"SELECT COUNT(*) FROM requests r WHERE {where}", pid))[0][0]
        keys = (
            "_id",
            "request_id",
            "status",
            "participants",
            "first_text",
            "last_text",
            "attributes",
            "isAuthenticated",
            "createdAt",
            "updatedAt",
            "requester",
            "role",
            "lead",
            "fullname",
            "email",
        )
        return {
            "perPage": limit,
            "count": count,
            "requests": [dict(zip(keys, tuple(r), strict=True)) for r in rows],
        }


def app() -> Baseline:
    return Baseline(os.environ["BENCH_DATABASE_URL"])
