"""Migration m0008 on a database that already holds messages: each gets the kind of its
sender from who wrote it (an agent account or not), never from its display name."""

from __future__ import annotations

import asyncio

import pytest

from frontdesk.storage import migrate as migrations
from frontdesk.storage.database import open_database
from tests.storage.schema import add_project, migrate_before

M0008 = "m0008_record_message_senders_and_visitor_attributes"


def test_existing_messages_get_their_senders_kind(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> dict[str, tuple[str, str]]:
        db = await open_database(database_url)
        try:
            left = await migrate_before(db, monkeypatch, M0008)
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO users (id, email, password_hash, created_at, updated_at)"
                    " VALUES ($1, 'a@x.test', 'x', 0, 0)", "a" * 24)
                await add_project(tx, "p" * 24)
                for mid, sender, name in (("1" * 24, "a" * 24, "Ada"),
                                          ("2" * 24, "visitor-1", "Support Team")):
                    await tx.execute(
                        "INSERT INTO messages (id, project_id, request_id, sender,"
                        " sender_fullname, created_at) VALUES ($1, $2, 'r', $3, $4, 0)",
                        mid, "p" * 24, sender, name)
            assert await migrations.migrate(db) == left
            rows = await db.fetch_all("SELECT id, sender_fullname, sender_kind FROM messages")
            return {r["id"]: (r["sender_fullname"], r["sender_kind"]) for r in rows}
        finally:
            await db.close()

    kinds = asyncio.run(scenario())
    assert kinds == {"1" * 24: ("Ada", "agent"), "2" * 24: ("Support Team", "visitor")}
