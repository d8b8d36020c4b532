"""Project verification keys, newest first: shared secrets (sealed at rest), public keys
(PEM) and JWKS sources (a URL). A kid is unique within its project."""

from __future__ import annotations

from typing import Literal, TypedDict

from frontdesk.storage.database import Queries
from frontdesk.storage.rows import fetch_record, fetch_records


class KeyRecord(TypedDict):
    """A row of ``project_keys``."""

    project_id: str
    kid: str
    kind: Literal["hmac", "rsa", "ec", "jwks"]
    alg: str | None
    label: str
    secret_enc: str | None
    public_key: str | None
    jwks_url: str | None
    created_at: int
    retired_at: int | None
    verify_until: int | None


async def insert_key(
    q: Queries,
    *,
    kid: str,
    project_id: str,
    kind: str,
    now: int,
    alg: str | None = None,
    label: str = "",
    secret_enc: str | None = None,
    public_key: str | None = None,
    jwks_url: str | None = None,
) -> bool:
    """Insert unless the project has this kid already; True if inserted."""
    inserted = await q.execute(
        "INSERT INTO project_keys (project_id, kid, kind, alg, label, secret_enc, public_key,"
        " jwks_url, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (project_id, kid) DO NOTHING",
        project_id,
        kid,
        kind,
        alg,
        label,
        secret_enc,
        public_key,
        jwks_url,
        now,
    )
    return inserted == 1


async def get_key(q: Queries, project_id: str, kid: str) -> KeyRecord | None:
    return await fetch_record(
        q, KeyRecord,
        "SELECT * FROM project_keys WHERE project_id = $1 AND kid = $2",
        project_id,
        kid,
    )


async def live_keys(q: Queries, project_id: str, now: int) -> list[KeyRecord]:
    """Keys that verify tokens now: not retired, or retired with grace left."""
    return await fetch_records(
        q, KeyRecord,
        "SELECT * FROM project_keys WHERE project_id = $1"
        " AND (retired_at IS NULL OR verify_until > $2)"
        " ORDER BY created_at DESC, kid",
        project_id,
        now,
    )


def verifies_at(row: KeyRecord, now: int) -> bool:
    """Whether the key verifies tokens at ``now`` (epoch ms), as ``live_keys`` selects."""
    return row["retired_at"] is None or (row["verify_until"] or 0) > now


async def all_keys(q: Queries, project_id: str) -> list[KeyRecord]:
    return await fetch_records(
        q, KeyRecord,
        "SELECT * FROM project_keys WHERE project_id = $1 ORDER BY created_at DESC, kid",
        project_id,
    )


async def retire_active_keys(
    q: Queries, project_id: str, *, kind: str, now: int, verify_until: int
) -> list[str]:
    """Retire every active key of ``kind``; the kids retired."""
    rows = await q.fetch_all(
        "UPDATE project_keys SET retired_at = $3, verify_until = $4"
        " WHERE project_id = $1 AND kind = $2 AND retired_at IS NULL RETURNING kid",
        project_id,
        kind,
        now,
        verify_until,
    )
    return [r["kid"] for r in rows]


async def retire_key(
    q: Queries, project_id: str, kid: str, *, now: int, verify_until: int
) -> int:
    """Retire one key, or shorten the grace of a retired one (never lengthen it)."""
    return await q.execute(
        "UPDATE project_keys SET retired_at = COALESCE(retired_at, $3),"
        " verify_until = CASE WHEN verify_until IS NULL OR verify_until > $4 THEN $4"
        " ELSE verify_until END WHERE project_id = $1 AND kid = $2",
        project_id,
        kid,
        now,
        verify_until,
    )
