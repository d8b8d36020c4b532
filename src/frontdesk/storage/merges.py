"""Merges of anonymous visitors' conversations into authenticated contacts."""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import Queries, row_lock
from frontdesk.storage.rows import encode, fetch_record, fetch_records


class MergeRecord(TypedDict):
    """A row of ``merges``; ``request_ids`` decoded."""

    id: str
    project_id: str
    anonymous_visitor_id: str
    anonymous_lead_ref: str | None
    visitor_id: str
    lead_ref: str
    request_ids: list[str]
    merged_at: int
    reverted_at: int | None
    reverted_by: str | None
    anonymous_erased_at: int | None


class MergedConversationRecord(TypedDict):
    """What a merge moves of a conversation."""

    id: str
    request_id: str
    lead_ref: str | None
    attributes: dict[str, Any]
    held_tier: str | None

_JSON = ("request_ids",)
_CONVERSATIONS = "SELECT id, request_id, lead_ref, attributes, held_tier FROM requests r"


async def insert_merge(
    q: Queries,
    *,
    id: str,
    project_id: str,
    anonymous_visitor_id: str,
    anonymous_lead_ref: str | None,
    visitor_id: str,
    lead_ref: str,
    request_ids: list[str],
    now: int,
) -> None:
    await q.execute(
        "INSERT INTO merges (id, project_id, anonymous_visitor_id, anonymous_lead_ref,"
        " visitor_id, lead_ref, request_ids, merged_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id,
        project_id,
        anonymous_visitor_id,
        anonymous_lead_ref,
        visitor_id,
        lead_ref,
        encode(request_ids),
        now,
    )


async def get_merge(
    q: Queries, project_id: str, id: str, *, lock: bool = False
) -> MergeRecord | None:
    return await fetch_record(
        q, MergeRecord,
        "SELECT * FROM merges m WHERE project_id = $1 AND id = $2"  # noqa: S608
        + row_lock(q, "m", lock),
        project_id,
        id,
        json=_JSON,
    )


async def merges_of_lead(q: Queries, project_id: str, lead_ref: str) -> list[MergeRecord]:
    """Merges into or out of a lead, oldest first."""
    return await fetch_records(
        q, MergeRecord,
        "SELECT * FROM merges WHERE project_id = $1 AND (lead_ref = $2 OR anonymous_lead_ref = $2)"
        " ORDER BY merged_at, id",
        project_id,
        lead_ref,
        json=_JSON,
    )


async def mark_reverted(q: Queries, id: str, *, now: int, by: str) -> int:
    return await q.execute(
        "UPDATE merges SET reverted_at = $2, reverted_by = $3 WHERE id = $1"
        " AND reverted_at IS NULL",
        id,
        now,
        by,
    )


async def delete_merges_of_lead(q: Queries, project_id: str, lead_ref: str) -> None:
    """Forget the merges into ``lead_ref`` and the reverted ones out of it.

    A live merge out of an erased anonymous contact stays: it is the surviving contact's
    history.
    """
    await q.execute(
        "DELETE FROM merges WHERE project_id = $1 AND (lead_ref = $2"
        " OR (anonymous_lead_ref = $2 AND reverted_at IS NOT NULL))",
        project_id,
        lead_ref,
    )


async def mark_anonymous_erased(q: Queries, id: str, *, now: int) -> None:
    await q.execute("UPDATE merges SET anonymous_erased_at = $2 WHERE id = $1", id, now)


async def hand_over_conversations(
    q: Queries,
    project_id: str,
    request_ids: list[str],
    *,
    from_user_id: str,
    to_requester_id: str,
    to_user_id: str,
) -> None:
    """Make ``to_user_id`` (membership ``to_requester_id``) the requester of those of
    ``request_ids`` that ``from_user_id`` started."""
    for request_id in request_ids:
        await q.execute(
            "UPDATE requests SET requester_id = $1, requester_user_id = $2"
            " WHERE project_id = $3 AND request_id = $4 AND requester_user_id = $5",
            to_requester_id,
            to_user_id,
            project_id,
            request_id,
            from_user_id,
        )


async def conversations_of(
    q: Queries, project_id: str, requester_user_id: str, *, lock: bool = False
) -> list[MergedConversationRecord]:
    """The conversations a visitor started, with their lead and attributes; with ``lock``,
    locked until the transaction ends."""
    return await fetch_records(
        q, MergedConversationRecord,
        _CONVERSATIONS + " WHERE project_id = $1 AND requester_user_id = $2 ORDER BY created_at"
        + row_lock(q, "r", lock),
        project_id,
        requester_user_id,
        json=("attributes",),
    )


async def conversations_by_ids(
    q: Queries, project_id: str, request_ids: list[str], *, lock: bool = False
) -> list[MergedConversationRecord]:
    rows = []
    for request_id in request_ids:
        row = await fetch_record(
            q, MergedConversationRecord,
            _CONVERSATIONS + " WHERE project_id = $1 AND request_id = $2" + row_lock(q, "r", lock),
            project_id,
            request_id,
            json=("attributes",),
        )
        if row is not None:
            rows.append(row)
    return rows
