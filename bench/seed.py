"""Bulk data for the benchmark, written straight into frontdesk's tables (not through the API).

Conversations come with their visitor (a guest membership), its lead and a number of messages
each; visitors for the load come with a session row and a session token signed with the
server's secret, exactly as a sign-in would have left them.
"""

from __future__ import annotations

import itertools
import random
import secrets
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson

from frontdesk.auth.sender_auth_info import anonymous_auth_info
from frontdesk.auth.tokens import SessionTokens
from frontdesk.clock import SystemClock
from frontdesk.statuses import RequestStatus

_DAY_MS = 86_400_000
_COLUMNS = {
    "project_users": ("id", "project_id", "user_id", "role", "profile", "created_at", "updated_at"),
    "leads": ("id", "project_id", "lead_id", "fullname", "attributes", "created_at", "updated_at"),
    "requests": (
        "id",
        "project_id",
        "request_id",
        "requester_id",
        "requester_user_id",
        "lead_ref",
        "status",
        "participants",
        "first_text",
        "last_text",
        "attributes",
        "created_at",
        "updated_at",
        "visitor_messages",
    ),
    "messages": (
        "id",
        "project_id",
        "request_id",
        "sender",
        "sender_fullname",
        "text",
        "created_at",
    ),
    "sessions": (
        "jti",
        "project_id",
        "subject_id",
        "kind",
        "auth_info",
        "issued_at",
        "expires_at",
    ),
}


_OID_PREFIX = f"{int(time.time()):08x}{secrets.token_hex(3)}"
_oid_counter = itertools.count(int.from_bytes(secrets.token_bytes(4), "big"))


def oid() -> str:
    """A 24-hex object id, time-ordered like frontdesk's own (so inserts go to the index end)."""
    return f"{_OID_PREFIX}{next(_oid_counter):010x}"


def new_request_id(project_id: str) -> str:
    return f"support-group-{project_id}-{secrets.token_hex(16)}"


def _sorted_hex(count: int) -> list[str]:
    return sorted(secrets.token_hex(16) for _ in range(count))


@dataclass(frozen=True)
class Visitor:
    token: str
    visitor_id: str
    request_id: str


def _attributes(auth_info: dict[str, Any]) -> str:
    """A conversation's attributes as the server writes them: its visitor's senderAuthInfo
    (for an anonymous visitor some 450 bytes of JSON, with its session token's claims)."""
    return orjson.dumps({"senderAuthInfo": auth_info}).decode()


class Seeder:
    """Writes rows in large batches with the raw driver of the database the URL names."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conversations = 0
        self.open_conversations = 0
        self.messages = 0
        self.seeded_at = 0  # epoch ms: no seeded conversation was created after

    async def _fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of one statement (``$n`` parameters), committed at once."""
        if self.url.startswith("postgres"):
            import asyncpg

            schema = parse_qs(urlparse(self.url).query).get("search_path", ["public"])[0]
            conn = await asyncpg.connect(self.url.split("?", 1)[0])
            try:
                await conn.execute(f"SET search_path TO {schema}")
                return [tuple(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()
        conn = sqlite3.connect(self.url[len("sqlite:///") :], isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            return conn.execute(sql.replace("$", "?"), args).fetchall()
        finally:
            conn.close()

    async def count_closed(self, project_id: str) -> int:
        rows = await self._fetch(
            "SELECT COUNT(*) FROM requests WHERE project_id = $1 AND status = $2",
            project_id,
            int(RequestStatus.CLOSED),
        )
        return int(rows[0][0])

    async def closed_position(self, project_id: str, index: int) -> tuple[int, str]:
        """(updated_at, id) of the closed conversation at ``index`` in the list's order."""
        rows = await self._fetch(
            "SELECT updated_at, id FROM requests WHERE project_id = $1 AND status = $2"
            " ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET $3",
            project_id,
            int(RequestStatus.CLOSED),
            index,
        )
        return int(rows[0][0]), str(rows[0][1])

    async def close_live(self, project_id: str) -> None:
        """Close the conversations the load opened (the seeded ones are older), so the open
        queue stays the seeded one from figure to figure.

        On PostgreSQL the conversations' table is then vacuumed, as the seeding's tables are
        (``analyze``): the load's tens of thousands of row versions (one per message into a
        conversation, one per conversation closed here) would otherwise leave as many dead
        entries at the newest end of the open queue's index, which every list page then
        walks, frontdesk's and the baseline's alike, until an autovacuum that a running
        deployment would have had (docs/performance.md, "History growth")."""
        await self._fetch(
            "UPDATE requests SET status = $1 WHERE project_id = $2 AND status < $1"
            " AND created_at > $3",
            int(RequestStatus.CLOSED),
            project_id,
            self.seeded_at,
        )
        if self.url.startswith("postgres"):
            await self._vacuum(["requests"], analyze=False)

    async def insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        columns = _COLUMNS[table]
        if self.url.startswith("postgres"):
            import asyncpg

            parsed = urlparse(self.url)
            schema = parse_qs(parsed.query).get("search_path", ["public"])[0]
            conn = await asyncpg.connect(self.url.split("?", 1)[0])
            try:
                await conn.copy_records_to_table(
                    table, records=rows, columns=columns, schema_name=schema
                )
            finally:
                await conn.close()
            return
        conn = sqlite3.connect(self.url[len("sqlite:///") :], isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            # A large page cache keeps the random inserts into the secondary indexes in memory.
            conn.execute("PRAGMA cache_size=-262144")
            conn.execute("BEGIN IMMEDIATE")
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            conn.execute("COMMIT")
        finally:
            conn.close()

    async def analyze(self) -> None:
        """Fresh planner statistics, and on PostgreSQL the visibility map autovacuum would keep
        after a bulk load (without it an index-only scan reads every row's heap page)."""
        if self.url.startswith("postgres"):
            await self._vacuum(list(_COLUMNS), analyze=True)
            return
        conn = sqlite3.connect(self.url[len("sqlite:///") :], isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("ANALYZE")
        finally:
            conn.close()

    async def _vacuum(self, tables: list[str], *, analyze: bool) -> None:
        """``VACUUM`` (with ``analyze``, ``VACUUM (ANALYZE)``) each of ``tables`` of the
        PostgreSQL schema, outside a transaction as it must run."""
        import asyncpg

        schema = parse_qs(urlparse(self.url).query).get("search_path", ["public"])[0]
        command = "VACUUM (ANALYZE)" if analyze else "VACUUM"
        conn = await asyncpg.connect(self.url.split("?", 1)[0])
        try:
            for table in tables:
                await conn.execute(f"{command} {schema}.{table}")
        finally:
            await conn.close()

    async def add_conversations(
        self, project_id: str, count: int, messages_each: int, *, closed: bool
    ) -> None:
        """``count`` conversations over the last 90 days, each with its visitor and lead: all
        closed (history), or all open (the queue: unassigned or assigned at random)."""
        now = int(time.time() * 1000)
        rng = random.Random(count * 7919 + self.conversations)
        tokens = SessionTokens(secrets.token_urlsafe(32), SystemClock())
        batch = 50_000
        for start in range(0, count, batch):
            members, leads, requests, messages = [], [], [], []
            size = min(batch, count - start)
            # Keys in index order turn the bulk insert into appends instead of random writes.
            keys = sorted(zip(_sorted_hex(size), _sorted_hex(size), strict=True))
            for visitor, rid_hex in keys:
                member, lead, ref = oid(), oid(), oid()
                rid = f"support-group-{project_id}-{rid_hex}"
                created = now - rng.randrange(90 * _DAY_MS)
                status = (
                    RequestStatus.CLOSED
                    if closed
                    else rng.choice((RequestStatus.UNASSIGNED, RequestStatus.ASSIGNED))
                )
                name = f"guest#{visitor[:4]}"
                members.append(
                    (
                        member,
                        project_id,
                        visitor,
                        "guest",
                        orjson.dumps({"firstname": name}).decode(),
                        created,
                        created,
                    )
                )
                leads.append((lead, project_id, visitor, name, "{}", created, created))
                _, claims = tokens.issue(sub="guest", subject_id=visitor, project_id=project_id,
                                         ttl=86_400, profile={"firstname": name, "lastname": ""})
                attributes = _attributes(anonymous_auth_info(visitor, claims.raw, created))
                for i in range(messages_each):
                    messages.append(
                        (
                            oid(),
                            project_id,
                            rid,
                            visitor,
                            name,
                            f"message {i} of a seeded conversation",
                            created + i * 1000,
                        )
                    )
                updated = created + messages_each * 1000
                requests.append(
                    (
                        ref,
                        project_id,
                        rid,
                        member,
                        visitor,
                        lead,
                        status,
                        "[]",
                        "hello",
                        "message",
                        attributes,
                        created,
                        updated,
                        messages_each,  # every seeded message is the visitor's
                    )
                )
            for table, rows in (
                ("project_users", members),
                ("leads", leads),
                ("requests", requests),
                ("messages", messages),
            ):
                await self.insert(table, rows)
        self.conversations += count
        self.open_conversations += 0 if closed else count
        self.messages += count * messages_each
        self.seeded_at = max(self.seeded_at, now)
        await self.analyze()

    async def add_visitors(
        self, project_id: str, secret: str, count: int, *, with_conversation: bool
    ) -> list[Visitor]:
        """Signed-in anonymous visitors; with a conversation of their own (and its lead) or not.

        Their requests ids are new ones when ``with_conversation`` is false: the first message
        to it opens the conversation.
        """
        tokens = SessionTokens(secret, SystemClock())
        now = int(time.time() * 1000)
        members, sessions, leads, requests, visitors = [], [], [], [], []
        for _ in range(count):
            visitor = secrets.token_hex(16)
            name = f"guest#{visitor[:4]}"
            profile = {"firstname": name, "lastname": ""}
            token, claims = tokens.issue(
                sub="guest", subject_id=visitor, project_id=project_id, ttl=86_400, profile=profile
            )
            member = oid()
            members.append(
                (member, project_id, visitor, "guest", orjson.dumps(profile).decode(), now, now)
            )
            info = anonymous_auth_info(visitor, claims.raw, now)
            sessions.append(
                (
                    claims.jti,
                    project_id,
                    visitor,
                    "guest",
                    orjson.dumps(info).decode(),
                    now,
                    claims.expires_at * 1000,
                )
            )
            rid = new_request_id(project_id)
            if with_conversation:
                lead = oid()
                leads.append((lead, project_id, visitor, name, "{}", now, now))
                requests.append(
                    (
                        oid(),
                        project_id,
                        rid,
                        member,
                        visitor,
                        lead,
                        100,
                        "[]",
                        "hello",
                        "hello",
                        _attributes(info),
                        now,
                        now,
                        0,  # no message rows: the texts alone
                    )
                )
            visitors.append(Visitor("JWT " + token, visitor, rid))
        for table, rows in (
            ("project_users", members),
            ("sessions", sessions),
            ("leads", leads),
            ("requests", requests),
        ):
            if rows:
                await self.insert(table, rows)
        return visitors
