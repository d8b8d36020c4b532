"""The e-mail outbox: messages waiting to be sent, claimed by one process at a time."""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import Queries
from frontdesk.storage.rows import encode, fetch_records

_JSON = ("payload",)


class OutboxRecord(TypedDict):
    id: str
    project_id: str | None
    kind: str
    dedupe_key: str | None
    to_address: str
    subject: str
    body: str
    payload: dict[str, Any]
    created_at: int
    next_attempt_at: int
    claimed_until: int | None
    attempts: int
    sent_at: int | None
    failed_at: int | None
    last_error: str | None


async def enqueue(
    q: Queries,
    *,
    id: str,
    project_id: str | None,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    payload: dict[str, Any],
    now: int,
    dedupe_key: str | None = None,
    not_before: int | None = None,
) -> bool:
    """Queue one e-mail; False (nothing queued) when ``dedupe_key`` was queued before."""
    inserted = await q.execute(
        "INSERT INTO outbox (id, project_id, kind, dedupe_key, to_address, subject, body,"
        " payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (dedupe_key) DO NOTHING",
        id, project_id, kind, dedupe_key, to_address, subject, body, encode(payload), now,
        now if not_before is None else not_before,
    )
    return inserted == 1


async def claim_due(q: Queries, *, now: int, lease_ms: int, limit: int) -> list[OutboxRecord]:
    """Claim up to ``limit`` due e-mails for ``lease_ms``: no other process takes them until
    the lease ends. Run in a transaction; PostgreSQL skips rows another claim holds."""
    skip = " FOR UPDATE SKIP LOCKED" if q.dialect == "postgresql" else ""
    return await fetch_records(
        q, OutboxRecord,
        "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 WHERE id IN ("  # noqa: S608
        " SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        " AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)"
        f" ORDER BY next_attempt_at LIMIT $3{skip}) RETURNING *",
        now, now + lease_ms, limit,
        json=_JSON,
    )


async def mark_sent(
    q: Queries, id: str, *, now: int, subject: str, body: str, payload: dict[str, Any]
) -> None:
    """Record the e-mail as sent, keeping what was sent (without its secrets)."""
    await q.execute(
        "UPDATE outbox SET sent_at = $2, claimed_until = NULL, subject = $3, body = $4,"
        " payload = $5, last_error = NULL WHERE id = $1",
        id, now, subject, body, encode(payload),
    )


async def mark_failed(
    q: Queries, id: str, *, error: str, retry_at: int | None, now: int
) -> None:
    """Record a failed attempt: tried again at ``retry_at``, or given up (None)."""
    if retry_at is None:
        await q.execute(
            "UPDATE outbox SET failed_at = $2, claimed_until = NULL, last_error = $3 WHERE id = $1",
            id, now, error[:500],
        )
    else:
        await q.execute(
            "UPDATE outbox SET next_attempt_at = $2, claimed_until = NULL, last_error = $3"
            " WHERE id = $1",
            id, retry_at, error[:500],
        )


async def list_outbox(q: Queries, project_id: str, *, limit: int = 100) -> list[OutboxRecord]:
    return await fetch_records(
        q, OutboxRecord,
        "SELECT * FROM outbox WHERE project_id = $1 ORDER BY created_at DESC LIMIT $2",
        project_id, limit, json=_JSON,
    )


async def delete_for_address(q: Queries, project_id: str, address: str) -> None:
    """Erasure: unsent and sent e-mails to the address go with the contact."""
    await q.execute(
        "DELETE FROM outbox WHERE project_id = $1 AND to_address = $2", project_id, address
    )
