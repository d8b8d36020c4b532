"""Links that reopen one conversation for its visitor: stored as hashes, spent once."""

from __future__ import annotations

from typing import TypedDict

from frontdesk.storage.database import Queries
from frontdesk.storage.rows import fetch_record


class ContinuityLinkRecord(TypedDict):
    token_hash: str
    project_id: str
    visitor_id: str
    request_id: str
    created_at: int
    expires_at: int
    used_at: int | None


async def insert_link(q: Queries, link: ContinuityLinkRecord) -> None:
    await q.execute(
        "INSERT INTO continuity_links (token_hash, project_id, visitor_id, request_id,"
        " created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        link["token_hash"], link["project_id"], link["visitor_id"], link["request_id"],
        link["created_at"], link["expires_at"],
    )


async def get_link(q: Queries, token_hash: str) -> ContinuityLinkRecord | None:
    return await fetch_record(
        q, ContinuityLinkRecord, "SELECT * FROM continuity_links WHERE token_hash = $1",
        token_hash,
    )


async def spend_link(q: Queries, token_hash: str, *, now: int) -> bool:
    """Mark the link used; False when it was used already (or by a concurrent redemption)."""
    spent = await q.execute(
        "UPDATE continuity_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
        token_hash, now,
    )
    return spent == 1


async def delete_links_of_visitor(q: Queries, project_id: str, visitor_id: str) -> None:
    await q.execute(
        "DELETE FROM continuity_links WHERE project_id = $1 AND visitor_id = $2",
        project_id, visitor_id,
    )
