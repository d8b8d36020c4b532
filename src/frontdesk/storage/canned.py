"""Canned responses: an agent's own replies and the project's shared ones."""

from __future__ import annotations

from typing import TypedDict

from frontdesk.storage.database import Queries, row_lock
from frontdesk.storage.rows import fetch_record, fetch_records


class CannedRecord(TypedDict):
    """A row of ``canned_responses``."""

    id: str
    project_id: str
    title: str
    text: str
    shared: int
    created_by: str  # the author's account id
    created_at: int
    updated_at: int


async def insert_canned(q: Queries, row: CannedRecord) -> None:
    await q.execute(
        "INSERT INTO canned_responses (id, project_id, title, text, shared, created_by,"
        " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        row["id"], row["project_id"], row["title"], row["text"], row["shared"],
        row["created_by"], row["created_at"], row["updated_at"],
    )


async def list_visible(q: Queries, project_id: str, user_id: str) -> list[CannedRecord]:
    """The project's shared responses and ``user_id``'s own, by title."""
    return await fetch_records(
        q, CannedRecord,
        "SELECT * FROM canned_responses WHERE project_id = $1 AND (shared = 1 OR created_by = $2)"
        " ORDER BY lower(title), created_at, id",
        project_id, user_id,
    )


async def count_own(q: Queries, project_id: str, user_id: str) -> int:
    return int(await q.fetch_value(
        "SELECT COUNT(*) FROM canned_responses WHERE project_id = $1 AND created_by = $2",
        project_id, user_id,
    ))


async def get_canned(
    q: Queries, project_id: str, id: str, *, lock: bool = False
) -> CannedRecord | None:
    return await fetch_record(
        q, CannedRecord,
        "SELECT * FROM canned_responses c WHERE project_id = $1 AND id = $2"  # noqa: S608
        + row_lock(q, "c", lock),
        project_id, id,
    )


async def update_canned(q: Queries, row: CannedRecord) -> None:
    await q.execute(
        "UPDATE canned_responses SET title = $2, text = $3, shared = $4, updated_at = $5"
        " WHERE id = $1",
        row["id"], row["title"], row["text"], row["shared"], row["updated_at"],
    )


async def delete_canned(q: Queries, id: str) -> None:
    await q.execute("DELETE FROM canned_responses WHERE id = $1", id)
