"""SQLite plans with statistics taken while the tables were nearly empty.

frontdesk never runs ``ANALYZE``, but an operator may, and on a young deployment that leaves
statistics saying each table holds a row or two. SQLite then chose to scan a table rather
than look a row up by its key wherever a join met it: every session for each first
message's membership read, every contact and membership for each conversation read and for
each row of the agents' list, every conversation of the project for a visitor's own list;
and, told every table holds one row, every session of the project for a visitor's sessions,
every membership for the team, the whole audit log for each refused sign-in. Those
statements must use their indexes whatever the statistics say (``database.indexed``,
``database.by_key``, a subquery for the session).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any, cast

from frontdesk.storage import audit, leads, project_users, requests, sessions
from frontdesk.storage.database import Queries, SQLiteDatabase
from frontdesk.storage.migrate import migrate
from tests.storage.schema import add_project

PID = "p" * 24
GROWN = 1500  # visitors added once the statistics were taken
# What may be scanned: the materialised subqueries of the lists and counts, not a table.
SUBQUERIES = {"mine", "page", "matching", "CONSTANT"}


class _Traced:
    """Queries that record the statements sent through them."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db
        self.dialect = db.dialect
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._db, name)

        async def traced(sql: str, *args: Any) -> Any:
            self.sent.append((sql, args))
            return await method(sql, *args)

        return traced


async def _visitor(q: Queries, n: int, *, role: str = "guest") -> None:
    """Visitor ``n``: a membership, a session, a contact and an open conversation."""
    await q.execute(
        "INSERT INTO project_users (id, project_id, user_id, role, profile, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, '{}', $5, $5)",
        f"m{n:023d}", PID, f"visitor-{n}", role, n)
    await q.execute(
        "INSERT INTO sessions (jti, project_id, subject_id, kind, issued_at, expires_at)"
        " VALUES ($1, $2, $3, 'guest', $4, $5)", f"{n:032x}", PID, f"visitor-{n}", n, n + 10**9)
    await q.execute(
        "INSERT INTO leads (id, project_id, lead_id, fullname, attributes, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, '{}', $5, $5)",
        f"l{n:023d}", PID, f"visitor-{n}", f"Visitor {n}", n)
    await q.execute(
        "INSERT INTO requests (id, project_id, request_id, requester_id, requester_user_id,"
        " lead_ref, status, first_text, last_text, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, 100, 'hello', 'hello', $7, $7)",
        f"r{n:023d}", PID, f"support-group-{PID}-{n:032x}", f"m{n:023d}", f"visitor-{n}",
        f"l{n:023d}", n)


async def _agent(q: Queries, n: int) -> None:
    """Agent ``n``: an account, a membership, and a refused sign-in in the audit log."""
    await q.execute(
        "INSERT INTO users (id, email, password_hash, created_at, updated_at)"
        " VALUES ($1, $2, 'x', 0, 0)", f"agent-{n}", f"agent-{n}@example.com")
    await q.execute(
        "INSERT INTO project_users (id, project_id, user_id, role, profile, created_at,"
        " updated_at) VALUES ($1, $2, $3, 'agent', '{}', $4, $4)",
        f"a{n:023d}", PID, f"agent-{n}", n)
    await q.execute(
        "INSERT INTO audit_events (id, project_id, type, at, last_at, code)"
        " VALUES ($1, $2, 'signin.failed', $3, $3, 'bad_signature')", f"e{n:023d}", PID, n)


def test_reads_look_rows_up_by_key_whatever_early_statistics_say(tmp_path: Path) -> None:
    async def scenario() -> dict[str, list[str]]:
        db = SQLiteDatabase(str(tmp_path / "young.db"))
        try:
            await migrate(db)
            async with db.transaction() as tx:
                await add_project(tx, PID)
                await _agent(tx, 0)
                await _visitor(tx, 0, role="user")
            async with db.transaction() as tx:
                await tx.execute("ANALYZE")  # on a deployment one visitor old
                # The worst of it: every table and index said to hold one row.
                for table, index, stat in await tx.fetch_all(
                        "SELECT tbl, idx, stat FROM sqlite_stat1"):
                    await tx.execute(
                        "UPDATE sqlite_stat1 SET stat = $1 WHERE tbl = $2 AND idx IS $3",
                        " ".join("1" for _ in stat.split()), table, index)
                await tx.execute("ANALYZE sqlite_master")  # read again
            async with db.transaction() as tx:
                for n in range(1, GROWN + 1):
                    await _visitor(tx, n, role="user" if n % 2 == 0 else "guest")
                    if n % 100 == 0:
                        await _agent(tx, n)
            traced = _Traced(db)
            q = cast(Queries, traced)
            some = GROWN // 2
            rid = f"support-group-{PID}-{some:032x}"
            conversation = await requests.get_request(q, PID, rid)
            assert conversation is not None and conversation["lead"] is not None
            assert conversation["lead"]["fullname"] == f"Visitor {some}"
            stored, _ = await requests.read_conversation_or_member(
                q, PID, rid, f"visitor-{some}", f"{some:032x}")
            assert stored is not None
            member = await project_users.get_visitor_membership(
                q, PID, f"visitor-{some}", f"{some:032x}")
            assert member is not None and member["session_auth_info"] == {}
            customer = await leads.customer_lead(q, PID, f"visitor-{some}")
            assert customer is not None and customer[0] == f"m{some:023d}"  # a customer
            queue = requests.RequestFilter(max_status=1000, held=False)
            rows, count = await requests.list_requests(
                q, PID, queue, limit=40, reader="agent", inbox=True)
            assert count == GROWN + 1 and len(rows) == 40
            for filt in (requests.RequestFilter(), requests.RequestFilter(text="visitor 7"),
                         requests.RequestFilter(visible_to=f"visitor-{some}")):
                _, count = await requests.list_requests(q, PID, filt, limit=40, offset=40)
                assert count > 0
            assert len(await sessions.live_sessions_of(q, PID, f"visitor-{some}", 0)) == 1
            assert len(await sessions.all_sessions_of(q, PID, f"visitor-{some}")) == 1
            assert await audit.count_since(q, PID, "signin.failed", 0) == GROWN // 100 + 1
            agents = await project_users.list_agents(q, PID, available_only=True)
            assert len(agents) == GROWN // 100 + 1
            found = await project_users.get_member_by_email(q, PID, "agent-100@example.com")
            assert found is not None and found["user_id"] == "agent-100"
            plans = {}
            for sql, args in traced.sent:
                plans[sql] = [str(step["detail"]) for step in await db.fetch_all(
                    "EXPLAIN QUERY PLAN " + sql, *args)]
            return plans
        finally:
            await db.close()

    plans = asyncio.run(scenario())
    assert len(plans) >= 10, plans
    for sql, plan in plans.items():
        scanned = [m.group(1) for step in plan if (m := re.match(r"SCAN (\w+)", step))]
        assert set(scanned) <= SUBQUERIES, (sql, plan)
        if sql.endswith("r.request_id = $2"):  # one conversation: by its key, not the project's
            assert "request_id=?" in plan[0], (sql, plan)
        if "AS mine" in sql:  # a visitor's own: its conversations by their ids
            assert not [step for step in plan if "(project_id=?)" in step], (sql, plan)
