"""Session rows: one per token the server issued, so any session can be revoked."""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import DIALECTS, Queries, indexed
from frontdesk.storage.rows import NewRow, encode, fetch_record, fetch_records


class SessionRecord(TypedDict):
    """A row of ``sessions``; ``auth_info`` decoded."""

    jti: str
    project_id: str | None
    subject_id: str
    kind: str
    auth_info: dict[str, Any]
    issued_at: int
    expires_at: int
    revoked_at: int | None
    revoked_reason: str | None

_JSON = ("auth_info",)


_INTO = "sessions (jti, project_id, subject_id, kind, auth_info, issued_at, expires_at, ip)"


def new_session(
    *,
    jti: str,
    project_id: str | None,
    subject_id: str,
    kind: str,
    auth_info: dict[str, Any],
    issued_at: int,
    expires_at: int,
    ip: str | None,
) -> NewRow:
    return NewRow(_INTO, (jti, project_id, subject_id, kind, encode(auth_info), issued_at,
                          expires_at, ip))


async def insert_session(q: Queries, row: NewRow) -> None:
    """Insert ``new_session``'s row. A new random jti: nothing can conflict, nothing reads
    the outcome."""
    await q.execute_later(row.insert(), *row.values)


async def get_session(q: Queries, jti: str) -> SessionRecord | None:
    return await fetch_record(
        q, SessionRecord, "SELECT * FROM sessions WHERE jti = $1", jti, json=_JSON
    )


async def revoke_session(q: Queries, jti: str, *, now: int, reason: str) -> int:
    return await q.execute(
        "UPDATE sessions SET revoked_at = $2, revoked_reason = $3"
        " WHERE jti = $1 AND revoked_at IS NULL",
        jti,
        now,
        reason,
    )


async def extend_session(q: Queries, jti: str, *, expires_at: int) -> bool:
    """Extend a live session; False when it was revoked (or is unknown)."""
    changed = await q.execute(
        "UPDATE sessions SET expires_at = $2 WHERE jti = $1 AND revoked_at IS NULL",
        jti,
        expires_at,
    )
    return changed == 1


# A visitor's sessions, by their index whatever statistics SQLite has (database.indexed).
_BY_SUBJECT = {dialect: indexed(dialect, "sessions", "sessions_by_subject") for dialect in DIALECTS}


async def live_sessions_of(
    q: Queries, project_id: str, subject_id: str, now: int
) -> list[SessionRecord]:
    return await fetch_records(
        q, SessionRecord,
        f"SELECT * FROM {_BY_SUBJECT[q.dialect]} WHERE project_id = $1 AND subject_id = $2"  # noqa: S608
        " AND revoked_at IS NULL AND expires_at > $3 ORDER BY issued_at",
        project_id,
        subject_id,
        now,
        json=_JSON,
    )


async def delete_sessions_of(q: Queries, project_id: str, subject_id: str) -> None:
    await q.execute(
        f"DELETE FROM {_BY_SUBJECT[q.dialect]} WHERE project_id = $1 AND subject_id = $2",  # noqa: S608
        project_id,
        subject_id,
    )


async def all_sessions_of(q: Queries, project_id: str, subject_id: str) -> list[SessionRecord]:
    """Every session of a visitor, revoked and expired ones included (for an export)."""
    return await fetch_records(
        q, SessionRecord,
        f"SELECT * FROM {_BY_SUBJECT[q.dialect]}"  # noqa: S608
        " WHERE project_id = $1 AND subject_id = $2 ORDER BY issued_at",
        project_id,
        subject_id,
        json=_JSON,
    )


async def set_auth_info(q: Queries, jti: str, auth_info: dict[str, Any]) -> None:
    """What the session proves now (an anonymous session whose visitor proved an e-mail)."""
    await q.execute("UPDATE sessions SET auth_info = $2 WHERE jti = $1", jti, encode(auth_info))
