"""One-time e-mail codes: the hash of each code, never the code, and what became of it."""

from __future__ import annotations

from typing import TypedDict

from frontdesk.storage.database import Queries, row_lock
from frontdesk.storage.rows import fetch_record


class EmailCodeRecord(TypedDict):
    id: str
    project_id: str
    visitor_id: str
    email: str
    code_hash: str
    attempts: int
    created_at: int
    expires_at: int
    used_at: int | None
    locked_at: int | None


async def insert_code(q: Queries, code: EmailCodeRecord) -> None:
    await q.execute(
        "INSERT INTO email_codes (id, project_id, visitor_id, email, code_hash, attempts,"
        " created_at, expires_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
        code["id"], code["project_id"], code["visitor_id"], code["email"], code["code_hash"],
        code["created_at"], code["expires_at"],
    )


async def latest_code(
    q: Queries, project_id: str, visitor_id: str, email: str, *, lock: bool = False
) -> EmailCodeRecord | None:
    """The newest code sent to ``email`` for this visitor: only the newest one counts."""
    return await fetch_record(
        q, EmailCodeRecord,
        "SELECT * FROM email_codes c WHERE project_id = $1 AND visitor_id = $2"  # noqa: S608
        " AND email = $3 ORDER BY created_at DESC, id DESC LIMIT 1" + row_lock(q, "c", lock),
        project_id, visitor_id, email,
    )


async def count_attempt(q: Queries, code_id: str, *, locked_at: int | None) -> None:
    await q.execute(
        "UPDATE email_codes SET attempts = attempts + 1, locked_at = $2 WHERE id = $1",
        code_id, locked_at,
    )


async def spend_code(q: Queries, code_id: str, *, now: int) -> bool:
    """Mark the code used; False when it was used or locked meanwhile."""
    spent = await q.execute(
        "UPDATE email_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL"
        " AND locked_at IS NULL",
        code_id, now,
    )
    return spent == 1


async def supersede_codes(q: Queries, project_id: str, visitor_id: str, *, now: int) -> None:
    """A new code replaces every earlier unspent one of the visitor."""
    await q.execute(
        "UPDATE email_codes SET locked_at = $3 WHERE project_id = $1 AND visitor_id = $2"
        " AND used_at IS NULL AND locked_at IS NULL",
        project_id, visitor_id, now,
    )


async def delete_codes_of_visitor(q: Queries, project_id: str, visitor_id: str) -> None:
    await q.execute(
        "DELETE FROM email_codes WHERE project_id = $1 AND visitor_id = $2", project_id, visitor_id
    )


async def forget_expired(q: Queries, before: int) -> int:
    return await q.execute("DELETE FROM email_codes WHERE expires_at < $1", before)
