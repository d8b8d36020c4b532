"""Messages of a request, kept in (created_at, id) order."""

from __future__ import annotations

from typing import Any, Literal, TypedDict, cast

from frontdesk.storage.database import Queries
from frontdesk.storage.rows import NewRow, decode_all, encode, fetch_record

SenderKind = Literal["visitor", "agent", "system"]


class MessageRecord(TypedDict):
    """A row of ``messages``; JSON columns decoded."""

    id: str
    project_id: str
    request_id: str
    sender: str
    sender_kind: SenderKind
    sender_fullname: str
    text: str
    type: str
    attributes: dict[str, Any]
    metadata: Any
    status: int
    created_at: int

_JSON = ("attributes", "metadata")


_INTO = (
    "messages (id, project_id, request_id, sender, sender_kind, sender_fullname, text, type,"
    " attributes, metadata, status, created_at)"
)


def new_message_row(message: MessageRecord) -> NewRow:
    return NewRow(_INTO, (
        message["id"],
        message["project_id"],
        message["request_id"],
        message["sender"],
        message["sender_kind"],
        message["sender_fullname"],
        message["text"],
        message["type"],
        encode(message["attributes"]),
        None if message["metadata"] is None else encode(message["metadata"]),
        message["status"],
        message["created_at"],
    ))


async def insert_message(q: Queries, message: MessageRecord) -> None:
    """A new message (a new id: nothing can conflict), queued: on PostgreSQL it leaves with
    its conversation's update (``Queries.execute_later``)."""
    row = new_message_row(message)
    await q.execute_later(row.insert(), *row.values)


async def get_message(q: Queries, request_id: str, message_id: str) -> MessageRecord | None:
    return await fetch_record(
        q, MessageRecord,
        "SELECT * FROM messages WHERE request_id = $1 AND id = $2",
        request_id,
        message_id,
        json=_JSON,
    )


async def list_messages(
    q: Queries,
    request_id: str,
    *,
    limit: int,
    after: tuple[int, str] | None = None,
    before: tuple[int, str] | None = None,
    latest: bool = False,
) -> list[MessageRecord]:
    """Messages oldest first. ``after``/``before`` are (created_at, id) cursors, exclusive.

    With ``before``, the newest ``limit`` messages older than it (for scrolling back); with
    ``latest`` and no cursor, the newest ``limit`` messages (a conversation's last page).
    """
    if before is not None:
        rows = await q.fetch_all(
            "SELECT * FROM messages WHERE request_id = $1"
            " AND (created_at < $2 OR (created_at = $2 AND id < $3))"
            " ORDER BY created_at DESC, id DESC LIMIT $4",
            request_id,
            before[0],
            before[1],
            limit,
        )
        rows.reverse()
    elif latest and after is None:
        rows = await q.fetch_all(
            "SELECT * FROM messages WHERE request_id = $1"
            " ORDER BY created_at DESC, id DESC LIMIT $2",
            request_id,
            limit,
        )
        rows.reverse()
    elif after is not None:
        rows = await q.fetch_all(
            "SELECT * FROM messages WHERE request_id = $1"
            " AND (created_at > $2 OR (created_at = $2 AND id > $3))"
            " ORDER BY created_at, id LIMIT $4",
            request_id,
            after[0],
            after[1],
            limit,
        )
    else:
        rows = await q.fetch_all(
            "SELECT * FROM messages WHERE request_id = $1 ORDER BY created_at, id LIMIT $2",
            request_id,
            limit,
        )
    return cast("list[MessageRecord]", decode_all(rows, _JSON))


async def delete_messages_of_requests(q: Queries, request_ids: list[str]) -> None:
    for request_id in request_ids:
        await q.execute("DELETE FROM messages WHERE request_id = $1", request_id)


async def last_visitor_message_at(q: Queries, request_id: str) -> int | None:
    """Epoch ms of the visitor's latest message in the conversation, or None."""
    value = await q.fetch_value(
        "SELECT MAX(created_at) FROM messages WHERE request_id = $1 AND sender_kind = 'visitor'",
        request_id,
    )
    return None if value is None else int(value)
