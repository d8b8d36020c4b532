"""The identity audit log, newest first.

A row stands for ``occurrences`` events of one kind, the first at ``at``, the last at
``last_at``; only summarised failures count more than one.
"""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import Queries, indexed
from frontdesk.storage.rows import NewRow, encode, fetch_record, fetch_records


class AuditEventRecord(TypedDict):
    """A row of ``audit_events``; ``details`` decoded."""

    id: str
    project_id: str
    type: str
    at: int
    last_at: int  # = at on insert; migration m0009 filled it in for older rows
    occurrences: int
    actor: str | None
    subject: str | None
    kid: str | None
    code: str | None
    ip: str | None
    suspicious: int
    details: dict[str, Any]

_JSON = ("details",)


_INTO = (
    "audit_events (id, project_id, type, at, last_at, actor, subject, kid, code, ip,"
    " suspicious, details)"
)


def new_event(
    *,
    id: str,
    project_id: str,
    type: str,
    at: int,
    actor: str | None,
    subject: str | None,
    kid: str | None,
    code: str | None,
    ip: str | None,
    suspicious: bool,
    details: dict[str, Any],
) -> NewRow:
    """A new event's row (``last_at`` = ``at``: it stands for one event)."""
    return NewRow(_INTO, (id, project_id, type, at, at, actor, subject, kid, code, ip,
                          int(suspicious), encode(details)))


async def insert_event(q: Queries, row: NewRow) -> None:
    """Insert ``new_event``'s row. A new id: nothing can conflict, nothing reads the
    outcome."""
    await q.execute_later(row.insert(), *row.values)


async def count_since(q: Queries, project_id: str, type: str, since: int) -> int:
    """Events of ``type`` whose row was last added to at or after ``since``."""
    # By its index whatever statistics SQLite has (database.indexed): it runs on every
    # refused sign-in, and a scan of the whole log would let refusals cost more as they pile up.
    events = indexed(q.dialect, "audit_events", "audit_events_by_last")
    value = await q.fetch_value(
        f"SELECT COALESCE(SUM(occurrences), 0) FROM {events}"  # noqa: S608
        " WHERE project_id = $1 AND type = $2 AND last_at >= $3",
        project_id,
        type,
        since,
    )
    return int(value)


async def lock_summary(q: Queries, project_id: str, type: str, code: str | None,
                       ip: str | None) -> None:
    """Serialise, until the transaction ends, writers of the summary row of one refusal from
    one address, so concurrent failures count on one row (SQLite has one writer anyway)."""
    if q.dialect == "postgresql":
        await q.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            "|".join((project_id, type, code or "", ip or "")),
        )


async def find_summary(
    q: Queries, project_id: str, type: str, *, code: str | None, ip: str | None, since: int
) -> str | None:
    """The id of the row begun at or after ``since`` that counts events of ``type`` with this
    ``code`` from this ``ip``, if any."""
    value = await q.fetch_value(
        "SELECT id FROM audit_events WHERE project_id = $1 AND type = $2 AND at >= $3"
        " AND COALESCE(code, '') = $4 AND COALESCE(ip, '') = $5 ORDER BY at DESC LIMIT 1",
        project_id,
        type,
        since,
        code or "",
        ip or "",
    )
    return None if value is None else str(value)


async def add_occurrence(q: Queries, id: str, *, at: int, suspicious: bool) -> None:
    """One more event counted by row ``id``; a suspicious flag, once set, stays."""
    await q.execute(
        "UPDATE audit_events SET occurrences = occurrences + 1, last_at = $2,"
        " suspicious = CASE WHEN $3 = 1 THEN 1 ELSE suspicious END WHERE id = $1",
        id,
        at,
        int(suspicious),
    )


async def list_events(
    q: Queries,
    project_id: str,
    *,
    type: str | None,
    subject: str | None,
    before: tuple[int, str] | None,
    limit: int,
) -> list[AuditEventRecord]:
    where = ["project_id = $1"]
    args: list[Any] = [project_id]
    if type is not None:
        args.append(type)
        where.append(f"type = ${len(args)}")
    if subject is not None:
        args.append(subject)
        where.append(f"subject = ${len(args)}")
    if before is not None:
        args += [before[0], before[1]]
        n = len(args)
        where.append(f"(at < ${n - 1} OR (at = ${n - 1} AND id < ${n}))")
    args.append(limit)
    return await fetch_records(
        q, AuditEventRecord,
        f"SELECT * FROM audit_events WHERE {' AND '.join(where)}"  # noqa: S608
        f" ORDER BY at DESC, id DESC LIMIT ${len(args)}",
        *args,
        json=_JSON,
    )


async def get_event(q: Queries, project_id: str, id: str) -> AuditEventRecord | None:
    return await fetch_record(
        q,
        AuditEventRecord,
        "SELECT * FROM audit_events WHERE project_id = $1 AND id = $2",
        project_id,
        id,
        json=_JSON,
    )
