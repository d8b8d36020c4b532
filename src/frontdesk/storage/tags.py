"""The project's tag library: one row per (project, tag name)."""

from __future__ import annotations

from typing import TypedDict

from frontdesk.storage.database import Queries, row_lock
from frontdesk.storage.rows import fetch_record, fetch_records


class TagRecord(TypedDict):
    """A row of ``tags``."""

    id: str
    project_id: str
    tag: str
    color: str | None
    created_by: str
    created_at: int
    updated_at: int


async def insert_tag(
    q: Queries,
    *,
    id: str,
    project_id: str,
    tag: str,
    color: str | None,
    created_by: str,
    now: int,
) -> bool:
    """Insert unless the project has a tag of that name already; True if new.

    Precondition: the caller decided on the name within its transaction (see actions.tags)."""
    inserted = await q.execute(
        "INSERT INTO tags (id, project_id, tag, color, created_by, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (project_id, tag) DO NOTHING",
        id,
        project_id,
        tag,
        color,
        created_by,
        now,
    )
    return inserted == 1


async def get_tag(
    q: Queries, project_id: str, tag_id: str, *, lock: bool = False
) -> TagRecord | None:
    return await fetch_record(
        q, TagRecord,
        "SELECT * FROM tags t WHERE project_id = $1 AND id = $2" + row_lock(q, "t", lock),  # noqa: S608
        project_id,
        tag_id,
    )


async def get_tag_by_name(q: Queries, project_id: str, tag: str) -> TagRecord | None:
    return await fetch_record(
        q, TagRecord, "SELECT * FROM tags WHERE project_id = $1 AND tag = $2", project_id, tag
    )


async def list_tags(q: Queries, project_id: str, *, limit: int, offset: int) -> list[TagRecord]:
    """Alphabetical, as the dashboard lists them."""
    return await fetch_records(
        q, TagRecord,
        "SELECT * FROM tags WHERE project_id = $1 ORDER BY tag, id LIMIT $2 OFFSET $3",
        project_id,
        limit,
        offset,
    )


async def count_tags(q: Queries, project_id: str) -> int:
    return int(await q.fetch_value("SELECT COUNT(*) FROM tags WHERE project_id = $1", project_id))


async def update_tag(
    q: Queries, id: str, *, tag: str, color: str | None, now: int
) -> None:
    await q.execute(
        "UPDATE tags SET tag = $2, color = $3, updated_at = $4 WHERE id = $1", id, tag, color, now
    )


async def delete_tag(q: Queries, id: str) -> None:
    await q.execute("DELETE FROM tags WHERE id = $1", id)
