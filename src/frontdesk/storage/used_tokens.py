"""The ``jti`` of every single-use customer token already exchanged, until it expires."""

from __future__ import annotations

from frontdesk.storage.database import Queries

# The largest value of the BIGINT expires_at column (milliseconds).
LATEST_EXPIRY = 2**63 - 1


async def remember(q: Queries, project_id: str, jti: str, *, expires_at: int) -> bool:
    """Record ``jti`` as used; False when it was used before (a replay)."""
    inserted = await q.execute(
        "INSERT INTO used_token_ids (project_id, jti, expires_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (project_id, jti) DO NOTHING",
        project_id,
        jti,
        expires_at,
    )
    return inserted == 1


async def forget_expired(q: Queries, now: int) -> int:
    return await q.execute("DELETE FROM used_token_ids WHERE expires_at < $1", now)
