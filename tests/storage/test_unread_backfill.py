"""Migration m0021 on a database that already holds conversations, messages and read markers:
each conversation's count of the visitor's messages, and each marker's count of those at or
before it, are backfilled so that unread counts stay what they were."""

from __future__ import annotations

import asyncio

import pytest

from frontdesk.storage import migrate as migrations
from frontdesk.storage.database import open_database
from frontdesk.storage.read_markers import count_unread
from tests.storage.schema import add_project, migrate_before

M0021 = "m0021_count_visitor_messages_for_unread"
PID = "p" * 24


def test_counts_are_backfilled_from_the_messages(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (request, message id, kind, created_at): two messages share a millisecond in "r1".
    messages = [
        ("r1", "a01", "visitor", 10), ("r1", "a02", "agent", 20), ("r1", "a03", "visitor", 30),
        ("r1", "a04", "visitor", 30), ("r1", "a05", "system", 40), ("r1", "a06", "visitor", 50),
        ("r2", "b01", "visitor", 10), ("r2", "b02", "visitor", 20), ("r3", "c01", "agent", 10),
    ]
    # (request, reader, marked message): r1 marked at a03 (a04 shares its time, larger id).
    markers = [("r1", "ann", "a03", 30), ("r1", "bob", "a06", 50), ("r2", "ann", "b01", 10)]

    async def scenario() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        db = await open_database(database_url)
        try:
            left = await migrate_before(db, monkeypatch, M0021)
            async with db.transaction() as tx:
                await add_project(tx, PID)
                for n, rid in enumerate(("r1", "r2", "r3")):
                    await tx.execute(
                        "INSERT INTO requests (id, project_id, request_id, requester_id,"
                        " requester_user_id, status, created_at, updated_at)"
                        " VALUES ($1, $2, $3, 'm', 'v', 100, 0, 0)", str(n) * 24, PID, rid)
                for rid, mid, kind, at in messages:
                    await tx.execute(
                        "INSERT INTO messages (id, project_id, request_id, sender,"
                        " sender_fullname, sender_kind, created_at)"
                        " VALUES ($1, $2, $3, 's', 'S', $4, $5)", mid, PID, rid, kind, at)
                for rid, reader, mid, at in markers:
                    await tx.execute(
                        "INSERT INTO read_markers (request_id, user_id, project_id, message_id,"
                        " message_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0)",
                        rid, reader, PID, mid, at)
            assert await migrations.migrate(db) == left
            rows = await db.fetch_all("SELECT request_id, visitor_messages FROM requests")
            unread = {(rid, reader): await count_unread(db, rid, reader)
                      for rid in ("r1", "r2", "r3") for reader in ("ann", "bob")}
            return {r["request_id"]: r["visitor_messages"] for r in rows}, unread
        finally:
            await db.close()

    counts, unread = asyncio.run(scenario())
    assert counts == {"r1": 4, "r2": 2, "r3": 0}
    assert unread == {
        ("r1", "ann"): 2, ("r1", "bob"): 0,  # ann: a04 (same time, later id) and a06
        ("r2", "ann"): 1, ("r2", "bob"): 2,  # bob never marked r2: all of it
        ("r3", "ann"): 0, ("r3", "bob"): 0,
    }
