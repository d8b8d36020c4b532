"""Read markers: the last message each agent has read in each conversation."""

from __future__ import annotations

from typing import TypedDict

from frontdesk.storage.database import Queries
from frontdesk.storage.rows import fetch_record


class ReadMarkerRecord(TypedDict):
    request_id: str
    user_id: str
    project_id: str
    message_id: str
    message_at: int
    updated_at: int
    # The visitor's messages at or before the marked message when the marker last moved.
    visitor_seen: int


# The visitor's messages after the reader's marker (all of them without one): those the
# conversation counts (``requests.visitor_messages``) less those the marker had seen. ``r`` is
# the request row and ``rm`` the reader's marker, LEFT JOINed by the query that uses it; no
# message is read (migration m0021).
UNREAD_COUNT = (
    "(CASE WHEN rm.visitor_seen IS NULL THEN r.visitor_messages"
    " WHEN r.visitor_messages > rm.visitor_seen THEN r.visitor_messages - rm.visitor_seen"
    " ELSE 0 END)"
)


def marker_join(reader_placeholder: str) -> str:
    """The LEFT JOIN of the reader's markers that ``UNREAD_COUNT`` reads."""
    return (
        " LEFT JOIN read_markers rm ON rm.request_id = r.request_id"
        f" AND rm.user_id = {reader_placeholder}"
    )


async def advance_marker(
    q: Queries,
    *,
    project_id: str,
    request_id: str,
    user_id: str,
    message_id: str,
    message_at: int,
    now: int,
) -> bool:
    """Move the marker forward to the message (message_at, message_id); never backwards.

    True when it moved (or was created). One atomic statement: concurrent marks of one
    reader keep the later message whatever order they commit in. It counts the visitor's
    messages up to the marked one (``visitor_seen``), once, so that lists need not: a
    visitor's message committed after this count with an earlier time (two writing at once)
    shows as unread until the marker moves again.
    """
    changed = await q.execute(
        "INSERT INTO read_markers (request_id, user_id, project_id, message_id, message_at,"
        " updated_at, visitor_seen) VALUES ($1, $2, $3, $4, $5, $6,"
        " (SELECT COUNT(*) FROM messages m WHERE m.request_id = $1"
        " AND m.sender_kind = 'visitor'"
        " AND (m.created_at < $5 OR (m.created_at = $5 AND m.id <= $4))))"
        " ON CONFLICT (request_id, user_id) DO UPDATE SET message_id = excluded.message_id,"
        " message_at = excluded.message_at, updated_at = excluded.updated_at,"
        " visitor_seen = excluded.visitor_seen"
        " WHERE read_markers.message_at < excluded.message_at"
        " OR (read_markers.message_at = excluded.message_at"
        " AND read_markers.message_id < excluded.message_id)",
        request_id,
        user_id,
        project_id,
        message_id,
        message_at,
        now,
    )
    return changed == 1


async def get_marker(q: Queries, request_id: str, user_id: str) -> ReadMarkerRecord | None:
    return await fetch_record(
        q, ReadMarkerRecord,
        "SELECT * FROM read_markers WHERE request_id = $1 AND user_id = $2",
        request_id,
        user_id,
    )


async def count_unread(q: Queries, request_id: str, user_id: str) -> int:
    return int(
        await q.fetch_value(
            f"SELECT {UNREAD_COUNT} FROM requests r{marker_join('$2')}"  # noqa: S608
            " WHERE r.request_id = $1",
            request_id,
            user_id,
        )
    )


async def delete_markers_of_requests(q: Queries, request_ids: list[str]) -> None:
    for request_id in request_ids:
        await q.execute("DELETE FROM read_markers WHERE request_id = $1", request_id)
