"""Leads (contacts): one per (project, visitor id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict, cast

from frontdesk.storage.database import DIALECTS, Queries, Row, by_key, row_lock
from frontdesk.storage.rows import (
    NewRow,
    RowChange,
    count_matching,
    decode,
    encode,
    fetch_record,
    fetch_records,
    like_pattern,
    unchanged,
    update_then_insert,
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
# The columns that change (ids and the creation time do not), and those that may be NULL:
# what a write from a lead read earlier checks is still stored (``rows.unchanged``).
LEAD_CHANGES = tuple(
    column for column in LeadRecord.__annotations__
    if column not in ("id", "project_id", "lead_id", "created_at")
)
LEAD_NULLABLE = frozenset({"fullname", "email", "phone"})
# What a customer's sign-in writes of its lead (``refresh_customer_lead``).
_SIGNIN_WRITES = ("fullname", "email", "phone", "attributes", "provenance", "is_authenticated")


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
    queued: bool = False,
) -> bool:
    """Insert unless the visitor already has a lead (a concurrent first message); True if new.

    With ``queued``, on PostgreSQL, the insert leaves with the transaction's next statement
    (``Queries.execute_later``) and True is answered unchecked: that statement must be one that
    fails, raising ``ContactRaced``, if the lead was not inserted (a conversation's insert,
    whose contact is this lead: ``requests.insert_request``). SQLite, with no round trip to
    save, inserts at once.
    """
    args = (id, project_id, lead_id, fullname, email, phone, encode(attributes),
            encode(provenance), int(is_authenticated), now)
    if queued and q.dialect == "postgresql":
        await q.execute_later(_INSERT_LEAD, *args)
        return True
    return await q.execute(_INSERT_LEAD, *args) == 1


class ContactRaced(Exception):
    """A contact queued for insertion (``insert_lead(queued=True)``) was made first by a
    concurrent transaction: the statement that needed it failed, and with it the transaction."""


_INSERT_LEAD = (
    "INSERT INTO leads (id, project_id, lead_id, fullname, email, phone, attributes,"
    " provenance, is_authenticated, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
    " ON CONFLICT (project_id, lead_id) DO NOTHING"
)


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


async def customer_lead(q: Queries, project_id: str, user_id: str) -> tuple[str, Row] | None:
    """A customer's membership id and its lead as stored (JSON columns as text), read as
    ``Queries.fetch_ahead`` reads; None unless ``user_id`` is a customer (role ``user``) of
    the project with a lead."""
    # Both looked up by their (project, visitor) keys: the second constraint of each table.
    member = by_key(q.dialect, "project_users", "pu", 2)
    lead = by_key(q.dialect, "leads", "l", 2)
    stored = await q.fetch_ahead(
        f"SELECT pu.id AS member_id, l.* FROM {member} JOIN {lead}"  # noqa: S608
        " ON l.project_id = pu.project_id AND l.lead_id = pu.user_id"
        " WHERE pu.project_id = $1 AND pu.user_id = $2 AND pu.role = 'user'",
        project_id,
        user_id,
    )
    if stored is None:
        return None
    member_id = stored.pop("member_id")
    return str(member_id), stored


def decoded(stored: Row) -> LeadRecord:
    """A lead read as stored (``customer_lead``), its JSON columns decoded in a copy."""
    return cast(LeadRecord, decode(dict(stored), LEAD_JSON))


async def refresh_customer_lead(
    q: Queries,
    stored: Row,
    lead: LeadRecord,
    *,
    member_id: str,
    now: int,
    then: Sequence[NewRow | RowChange],
) -> Row | None:
    """Write ``lead`` (``stored`` brought up to date by a customer's sign-in) and then the
    writes ``then``, if the lead is still stored as ``stored`` has it (the columns written
    here) and membership ``member_id`` is still a customer's: the lead as now stored (JSON
    columns as text, as ``customer_lead`` reads it), or None, with nothing written, if
    another write came first.

    The transaction's last statement (``rows.update_then_insert``).
    """
    # In the order of the SET clause's $2 to $6: the values are passed in this order.
    written = {
        "fullname": lead["fullname"], "email": lead["email"], "phone": lead["phone"],
        "attributes": encode(lead["attributes"]), "provenance": encode(lead["provenance"]),
    }
    args = (
        stored["id"], *written.values(), now, *[stored[column] for column in _SIGNIN_WRITES],
        member_id,
    )
    if await update_then_insert(q, _REFRESH_CUSTOMER_LEAD[q.dialect], args, then) is None:
        return None
    return {**stored, **written, "is_authenticated": 1, "updated_at": now}


# refresh_customer_lead's statement, built once per dialect rather than on every sign-in.
_REFRESH_CUSTOMER_LEAD = {
    dialect: (
        "UPDATE leads SET fullname = $2, email = $3, phone = $4, attributes = $5,"  # noqa: S608
        " provenance = $6, is_authenticated = 1, updated_at = $7"
        f" WHERE id = $1 AND {unchanged(dialect, 'leads', _SIGNIN_WRITES, 8, LEAD_NULLABLE)}"
        " AND EXISTS (SELECT 1 FROM project_users pu WHERE pu.id = $14 AND pu.role = 'user')"
        " RETURNING id"
    )
    for dialect in DIALECTS
}


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
