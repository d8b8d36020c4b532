"""Project verification keys: shared secrets (sealed at rest), newest first."""

from __future__ import annotations

from frontdesk.storage.database import Queries, Row


async def insert_key(
    q: Queries, *, kid: str, project_id: str, kind: str, secret_enc: str, now: int
) -> None:
    await q.execute(
        "INSERT INTO project_keys (kid, project_id, kind, secret_enc, created_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        kid,
        project_id,
        kind,
        secret_enc,
        now,
    )


async def live_keys(q: Queries, project_id: str, now: int) -> list[Row]:
    """Keys that verify tokens now: not retired, or retired with grace left."""
    return await q.fetch_all(
        "SELECT * FROM project_keys WHERE project_id = $1"
        " AND (retired_at IS NULL OR verify_until > $2)"
        " ORDER BY created_at DESC, kid",
        project_id,
        now,
    )


async def all_keys(q: Queries, project_id: str) -> list[Row]:
    return await q.fetch_all(
        "SELECT * FROM project_keys WHERE project_id = $1 ORDER BY created_at DESC, kid",
        project_id,
    )


async def retire_active_keys(q: Queries, project_id: str, *, now: int, verify_until: int) -> int:
    return await q.execute(
        "UPDATE project_keys SET retired_at = $2, verify_until = $3"
        " WHERE project_id = $1 AND retired_at IS NULL",
        project_id,
        now,
        verify_until,
    )
