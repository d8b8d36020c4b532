"""Leads (contacts): one per (project, visitor id)."""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import Queries, row_lock
from frontdesk.storage.rows import (
    count_matching,
    encode,
    fetch_record,
    fetch_records,
    like_pattern,
)


class LeadRecord(TypedDict):
    """A row of ``leads``; JSON columns decoded."""

    id: str
    project_id: str
    lead_id: str
    fullname: str | None
    email: str | None
    phone: str | None
    attributes: dict[str, Any]
    tags: list[str]
    provenance: dict[str, Any]
    is_authenticated: int
    created_at: int
    updated_at: int

# Its JSON columns, also decoded where a lead is read joined (requests) or filtered (retention).
LEAD_JSON = ("attributes", "tags", "provenance")


async def insert_lead(
    q: Queries,
    *,
    id: str,
    project_id: str,
    lead_id: str,
    fullname: str | None,
    email: str | None,
    phone: str | None,
    attributes: dict[str, Any],
    provenance: dict[str, Any],
    is_authenticated: bool,
    now: int,
) -> bool:
    """Insert unless the visitor already has a lead (a concurrent first message); True if new."""
    inserted = await q.execute(
        "INSERT INTO leads (id, project_id, lead_id, fullname, email, phone, attributes,"
        " provenance, is_authenticated, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
        " ON CONFLICT (project_id, lead_id) DO NOTHING",
        id,
        project_id,
        lead_id,
        fullname,
        email,
        phone,
        encode(attributes),
        encode(provenance),
        int(is_authenticated),
        now,
    )
    return inserted == 1


async def get_lead_by_visitor(
    q: Queries, project_id: str, lead_id: str, *, lock: bool = False
) -> LeadRecord | None:
    """The visitor's lead; with ``lock``, locked against other writers until the transaction
    ends."""
    return await fetch_record(
        q, LeadRecord,
        "SELECT * FROM leads l WHERE project_id = $1 AND lead_id = $2" + row_lock(q, "l", lock),  # noqa: S608
        project_id,
        lead_id,
        json=LEAD_JSON,
    )


async def get_lead(
    q: Queries, project_id: str, id: str, *, lock: bool = False
) -> LeadRecord | None:
    return await fetch_record(
        q, LeadRecord,
        "SELECT * FROM leads l WHERE project_id = $1 AND id = $2"  # noqa: S608
        + row_lock(q, "l", lock),
        project_id,
        id,
        json=LEAD_JSON,
    )


async def update_lead(
    q: Queries,
    id: str,
    *,
    fullname: str | None,
    email: str | None,
    phone: str | None,
    attributes: dict[str, Any],
    tags: list[str],
    provenance: dict[str, Any],
    is_authenticated: bool,
    now: int,
) -> None:
    await q.execute(
        "UPDATE leads SET fullname = $2, email = $3, phone = $4, attributes = $5, tags = $6,"
        " provenance = $7, is_authenticated = $8, updated_at = $9 WHERE id = $1",
        id,
        fullname,
        email,
        phone,
        encode(attributes),
        encode(tags),
        encode(provenance),
        int(is_authenticated),
        now,
    )


async def list_leads(
    q: Queries,
    project_id: str,
    *,
    authenticated: bool | None,
    text: str | None,
    limit: int,
    offset: int,
    count_cap: int = 0,
) -> tuple[list[LeadRecord], int]:
    """A page of contacts, most recently active first, and how many match in all. With
    ``count_cap`` above 0 counting stops past that many (a count of ``count_cap + 1`` means
    "more")."""
    where = ["project_id = $1"]
    args: list[Any] = [project_id]
    if authenticated is not None:
        args.append(int(authenticated))
        where.append(f"is_authenticated = ${len(args)}")
    if text:
        args.append(like_pattern(text))
        n = len(args)
        where.append(
            f"(lower(COALESCE(fullname, '')) LIKE ${n} ESCAPE '\\'"
            f" OR lower(COALESCE(email, '')) LIKE ${n} ESCAPE '\\'"
            f" OR lower(lead_id) LIKE ${n} ESCAPE '\\')"
        )
    clause = " AND ".join(where)
    total = await count_matching(q, f"SELECT 1 FROM leads WHERE {clause}", args, count_cap)  # noqa: S608
    rows = await fetch_records(
        q, LeadRecord,
        f"SELECT * FROM leads WHERE {clause} ORDER BY updated_at DESC, id DESC"  # noqa: S608
        f" LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
        *args, limit, offset,
        json=LEAD_JSON,
    )
    return rows, total


async def delete_lead(q: Queries, id: str) -> None:
    await q.execute("DELETE FROM leads WHERE id = $1", id)
