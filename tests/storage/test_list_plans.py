"""The agents' list page as the planners run it.

PostgreSQL plans it once, not on every call: asyncpg prepares each statement; PostgreSQL then
plans it for the parameters of each of its first five executions and keeps a generic plan only
if that plan does not look costlier. With LIMIT and OFFSET as parameters it could not cost a
generic plan for a 40-row page, so it planned the dashboard's page (the first one, or one after
a cursor) anew on every call, about half of the statement's time.

PostgreSQL's first page of the open queue (or one after a cursor) is read the same way: with
1,000 open conversations and no history it otherwise joined the page's ids to a sequential
scan of every conversation (a hash join), twice the time of the same page with 100,000 closed
conversations stored, where it looked the 40 rows up.

SQLite, which has no statistics (nothing runs ANALYZE), reads the open queue from its partial
index in the page's order, and a first page joins the rows it keeps only: no materialised list
of ids, no sort. Left to choose, it read every open conversation through requests_by_status
and sorted them, joins included, for every page. A visitor's own list reads the visitor's
conversations from their indexes, not the project's history.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from frontdesk.storage import requests
from frontdesk.storage.database import Database, PostgresDatabase, Queries, SQLiteDatabase
from frontdesk.storage.migrate import migrate
from tests.storage.schema import add_project

PID = "p" * 24
OPEN = 1000  # as in the bench: with 60 rows PostgreSQL kept a generic plan either way

PAGE = requests.RequestFilter(max_status=1000, held=False)  # the dashboard's open queue
_Plan = TypeVar("_Plan")


async def open_queue(db: Database) -> None:
    """A project with ``OPEN`` open conversations, each with its visitor."""
    await migrate(db)
    async with db.transaction() as tx:
        await add_project(tx, PID)
        for n in range(OPEN):
            await tx.execute(
                "INSERT INTO project_users (id, project_id, user_id, role, profile,"
                " created_at, updated_at) VALUES ($1, $2, $3, 'guest', '{}', 0, 0)",
                f"m{n:023d}", PID, f"visitor-{n}")
            await tx.execute(
                "INSERT INTO requests (id, project_id, request_id, requester_id,"
                " requester_user_id, status, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, 100, $6, $6)",
                f"r{n:023d}", PID, f"support-group-{PID}-{n:032x}", f"m{n:023d}",
                f"visitor-{n}", n)


class _Seen:
    """The statements the list sends through it (read-only list queries only)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect = db.dialect
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch_value(self, sql: str, *args: Any) -> Any:
        self.sent.append((sql, args))
        return await self.db.fetch_value(sql, *args)

    async def fetch_tuples(self, sql: str, *args: Any) -> list[Any]:
        self.sent.append((sql, args))
        return await self.db.fetch_tuples(sql, *args)

    async def fetch_all(self, sql: str, *args: Any) -> list[Any]:
        self.sent.append((sql, args))
        return await self.db.fetch_all(sql, *args)

    async def fetch_one(self, sql: str, *args: Any) -> Any:
        self.sent.append((sql, args))
        return await self.db.fetch_one(sql, *args)


async def _first_and_later_pages(
    db: Database, explain: Callable[[str, tuple[Any, ...]], Awaitable[_Plan]]
) -> list[_Plan]:
    """The plans (by ``explain``) of the open queue's page statement for a first page and for
    a page past an OFFSET, each page's rows and count checked first."""
    plans = []
    for offset in (0, 40):
        seen = _Seen(db)
        rows, count = await requests.list_requests(
            cast(Queries, seen), PID, PAGE, limit=40, offset=offset, reader="agent", inbox=True)
        assert count == OPEN
        assert [r["updated_at"] for r in rows] == list(range(OPEN - 1 - offset,
                                                             OPEN - 41 - offset, -1))
        [(sql, args)] = [s for s in seen.sent if s[0].startswith("SELECT r.id, r.req")]
        plans.append(await explain(sql, args))
    return plans


def test_sqlite_reads_a_first_page_in_the_index_order(tmp_path: Path) -> None:
    async def scenario() -> list[list[str]]:
        db = SQLiteDatabase(str(tmp_path / "list.db"))
        try:
            await open_queue(db)

            async def explain(sql: str, args: tuple[Any, ...]) -> list[str]:
                return [str(step["detail"]) for step in await db.fetch_all(
                    "EXPLAIN QUERY PLAN " + sql, *args)]

            return await _first_and_later_pages(db, explain)
        finally:
            await db.close()

    first, later = asyncio.run(scenario())
    assert any("requests_open_queue" in step for step in first), first
    assert not any("TEMP B-TREE" in step or "MATERIALIZE" in step for step in first), first
    # Past an OFFSET the ids come first, from the same index: the joins run for the page's
    # rows, not for the skipped ones.
    assert any("requests_open_queue" in step for step in later), later
    assert any("MATERIALIZE" in step for step in later), later


def test_a_visitors_own_list_reads_its_conversations_not_the_history(tmp_path: Path) -> None:
    async def scenario() -> list[list[str]]:
        db = SQLiteDatabase(str(tmp_path / "mine.db"))
        try:
            await open_queue(db)
            # visitor-500's contact holds its own conversation (found by both of the list's
            # reads, listed once) and visitor-501's (attached to it, as a merge leaves it).
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO leads (id, project_id, lead_id, attributes, created_at,"
                    " updated_at) VALUES ('lead500', $1, 'visitor-500', '{}', 0, 0)", PID)
                await tx.execute("UPDATE requests SET lead_ref = 'lead500'"
                                 " WHERE requester_user_id IN ('visitor-500', 'visitor-501')")
            seen = _Seen(db)
            mine = requests.RequestFilter(visible_to="visitor-500")
            rows, count = await requests.list_requests(cast(Queries, seen), PID, mine, limit=5)
            assert count == 2
            assert [r["requester_user_id"] for r in rows] == ["visitor-501", "visitor-500"]
            assert len(seen.sent) == 2  # the count, then the page
            return [[str(step["detail"]) for step in await db.fetch_all(
                "EXPLAIN QUERY PLAN " + sql, *args)] for sql, args in seen.sent]
        finally:
            await db.close()

    for plan in asyncio.run(scenario()):
        assert any("requests_by_requester" in step for step in plan), plan
        assert any("requests_by_lead" in step for step in plan), plan
        # Not a walk of the project's conversations, filtered row by row.
        assert not any("requests_by_activity" in step or "requests_by_status" in step
                       or "requests_by_assignee" in step for step in plan), plan


def test_the_ratings_summary_reads_the_rated_conversations_only(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        db = SQLiteDatabase(str(tmp_path / "rated.db"))
        try:
            await open_queue(db)
            async with db.transaction() as tx:
                await tx.execute("UPDATE requests SET rating = 5 WHERE created_at % 100 = 0")
            seen = _Seen(db)
            assert await requests.rating_summary(cast(Queries, seen), PID) == (OPEN // 100, 5.0)
            [(sql, args)] = seen.sent
            return [str(step["detail"]) for step in await db.fetch_all(
                "EXPLAIN QUERY PLAN " + sql, *args)]
        finally:
            await db.close()

    plan = asyncio.run(scenario())
    assert any("COVERING INDEX requests_rated" in step for step in plan), plan


@contextlib.asynccontextmanager
async def _postgres_open_queue(pg_schema: str) -> AsyncIterator[PostgresDatabase]:
    """The open queue in a PostgreSQL schema, analysed, through a pool of one connection."""
    url, schema = pg_schema.split("?search_path=")
    db = await PostgresDatabase.connect(url, schema=schema, min_size=1, max_size=1)
    try:
        await open_queue(db)
        for table in ("requests", "project_users", "leads", "read_markers"):
            await db.execute(f"ANALYZE {schema}.{table}")
        yield db
    finally:
        await db.close()


def test_the_list_page_keeps_a_generic_plan(pg_schema: str) -> None:
    async def scenario() -> tuple[int, int, int]:
        async with _postgres_open_queue(pg_schema) as db:
            for _ in range(12):
                rows, count = await requests.list_requests(
                    db, PID, PAGE, limit=40, reader="agent", inbox=True)
                assert len(rows) == 40 and count == OPEN
            async with db.pool.acquire() as conn:
                generic, custom = await conn.fetchrow(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement LIKE 'SELECT r.id, r.request_id, r.status,%'")
            return generic, custom, 12

    generic, custom, calls = asyncio.run(scenario())
    assert generic + custom == calls
    assert custom <= 5 < generic  # planned for its first five calls at most, then kept


def test_postgresql_reads_a_first_page_in_the_index_order(pg_schema: str) -> None:
    async def scenario() -> list[str]:
        async with _postgres_open_queue(pg_schema) as db:

            async def explain(sql: str, args: tuple[Any, ...]) -> str:
                return "\n".join(str(r[0]) for r in await db.fetch_tuples("EXPLAIN " + sql, *args))

            return await _first_and_later_pages(db, explain)

    first, later = asyncio.run(scenario())
    assert "Index Scan Backward using requests_open_queue on requests r " in first, first
    assert first.startswith("Limit") and "Sort" not in first, first
    assert "Seq Scan on requests" not in first and "Hash Join" not in first, first
    # Past an OFFSET the ids come first, from the same index, and the joins run for the
    # page's rows only.
    assert "requests_open_queue on requests r_1" in later, later
