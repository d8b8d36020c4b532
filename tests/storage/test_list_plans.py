"""PostgreSQL plans the agents' list page once, not on every call.

asyncpg prepares each statement; PostgreSQL then plans it for the parameters of each of its
first five executions and keeps a generic plan only if that plan does not look costlier.
With LIMIT and OFFSET as parameters it could not cost a generic plan for a 40-row page, so it
planned the dashboard's page (the first one, or one after a cursor) anew on every call, about
half of the statement's time.
"""

from __future__ import annotations

import asyncio

from frontdesk.storage import requests
from frontdesk.storage.database import PostgresDatabase
from frontdesk.storage.migrate import migrate
from tests.storage.schema import add_project

PID = "p" * 24
OPEN = 1000  # as in the bench: with 60 rows PostgreSQL kept a generic plan either way


def test_the_list_page_keeps_a_generic_plan(pg_schema: str) -> None:
    async def scenario() -> tuple[int, int, int]:
        url, schema = pg_schema.split("?search_path=")
        db = await PostgresDatabase.connect(url, schema=schema, min_size=1, max_size=1)
        try:
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
            for table in ("requests", "project_users", "leads", "read_markers"):
                await db.execute(f"ANALYZE {schema}.{table}")
            page = requests.RequestFilter(max_status=1000, held=False)
            for _ in range(12):
                rows, count = await requests.list_requests(
                    db, PID, page, limit=40, reader="agent", inbox=True)
                assert len(rows) == 40 and count == OPEN
            async with db.pool.acquire() as conn:
                generic, custom = await conn.fetchrow(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement LIKE 'SELECT r.id, r.request_id, r.status,%'")
            return generic, custom, 12
        finally:
            await db.close()

    generic, custom, calls = asyncio.run(scenario())
    assert generic + custom == calls
    assert custom <= 5 < generic  # planned for its first five calls at most, then kept
