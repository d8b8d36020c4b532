"""Messages: the first one opens a conversation; history reads oldest first by cursor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from frontdesk.actions.access import ProjectAccess, access_request
from frontdesk.actions.continuity import do_note_agent_reply
from frontdesk.actions.files import FILE_MESSAGE_TYPES, do_attach_file, referenced_file
from frontdesk.actions.requests import (
    NewRequest,
    apply_changes,
    do_create_request,
    do_tell_new_conversation,
    notify_request,
    publish_request,
    reopen_for_visitor,
)
from frontdesk.actions.system_messages import announce_message
from frontdesk.auth.permissions import can_see_request
from frontdesk.auth.principals import Agent
from frontdesk.auth.sender_auth_info import strip_reserved
from frontdesk.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from frontdesk.ids import parse_request_id
from frontdesk.models.messages import MessagePublic, present_message
from frontdesk.models.requests import (
    RequestPublic,
    present_request,
    present_request_after_message,
)
from frontdesk.services import Services
from frontdesk.statuses import RequestStatus
from frontdesk.storage import leads, messages, requests
from frontdesk.storage.database import Transaction
from frontdesk.storage.messages import MessageRecord, SenderKind
from frontdesk.storage.project_users import VisitorMemberRecord
from frontdesk.storage.requests import RequestRecord, StoredConversation

SENT = 150


@dataclass(frozen=True)
class IncomingMessage:
    text: str
    type: str
    sender_fullname: str | None
    attributes: dict[str, Any]
    metadata: Any
    department_id: str | None
    source_page: str | None
    language: str | None
    user_agent: str | None
    channel: str


def _self_reported(incoming: IncomingMessage) -> dict[str, str]:
    """What a visitor typed about itself: the widget's userFullname/userEmail or sender name."""
    reported = {}
    name = incoming.attributes.get("userFullname") or incoming.sender_fullname
    if isinstance(name, str) and name.strip():
        reported["fullname"] = name.strip()[:200]
    email = incoming.attributes.get("userEmail")
    if isinstance(email, str) and "@" in email:
        reported["email"] = email.strip()[:320]
    return reported


def _carries_file(metadata: Any) -> bool:
    """Whether a message's metadata points at a file, image or frame (Tiledesk's
    ``metadata.src``, or an uploaded file's ``fileId``)."""
    return isinstance(metadata, dict) and bool(metadata.get("src") or metadata.get("fileId"))


async def check_post_message(
    services: Services, access: ProjectAccess, request_id: str, incoming: IncomingMessage
) -> tuple[MessagePublic, RequestPublic]:
    """Store a message; a visitor's first message to an unknown id opens the conversation.
    Returns the message and its conversation as they are after it.

    Raises ValidationFailed(empty_message) for a message with neither text nor a file (as
    Tiledesk does), BadRequest(invalid_request_id) for a malformed id or another project's,
    Forbidden(not_your_request) for another visitor's conversation, NotFound when an agent
    writes to a conversation that does not exist, Conflict(request_closed) when an agent
    writes to a closed one; for a message carrying a file, as ``files.do_attach_file``.
    """
    if not incoming.text.strip() and not _carries_file(incoming.metadata):
        raise ValidationFailed("a message needs a text or a file", code="empty_message")
    project_id = access.project["id"]
    if parse_request_id(request_id) != project_id:
        raise BadRequest(
            f"request ids look like support-group-{project_id}-<32 hex>",
            code="invalid_request_id",
        )
    principal = access.principal
    now = services.now_ms()
    if not isinstance(principal, Agent) and not _names_a_file(project_id, incoming):
        try:
            posted = await _post_read_ahead(services, access, request_id, incoming, now)
        except (leads.ContactRaced, requests.ConversationRaced):
            posted = None  # its transaction wrote nothing and is over
        if posted is not None:
            return posted
    # An agent's message, a file, a conversation changed since it was read (its transaction
    # is over), or a first message whose contact or conversation a concurrent one made:
    # decided on the row read locked.
    async with services.db.transaction() as tx:
        row = await requests.get_request(tx, project_id, request_id, lock=True)
        return await _post_locked(services, tx, access, request_id, incoming, now, row)


async def _post_read_ahead(
    services: Services, access: ProjectAccess, request_id: str, incoming: IncomingMessage,
    now: int,
) -> tuple[MessagePublic, RequestPublic] | None:
    """A visitor's message (naming no file), its conversation read or kept without a lock.
    None, with nothing written, when the conversation changed since; ``leads.ContactRaced``
    when a first message's contact was made meanwhile (its transaction failed), and
    ``requests.ConversationRaced`` when its conversation was (nothing was written)."""
    project_id = access.project["id"]
    principal = access.principal
    assert not isinstance(principal, Agent)
    async with services.db.transaction() as tx:
        # Most messages go into an open conversation, which one write then changes if
        # nothing came in between: as this process kept it from the visitor's last
        # message, else read without a lock (on PostgreSQL before BEGIN).
        # On PostgreSQL a read that finds no conversation brings the visitor's membership
        # along, which a first message needs next.
        kept = services.conversations.get(project_id, request_id)
        stored, member = (kept, None) if kept else await requests.read_conversation_or_member(
            tx, project_id, request_id, principal.visitor_id, principal.jti)
        if stored is not None and _open_to(access, stored):
            posted = await _post_into_open_conversation(
                services, tx, access, stored, incoming, now, kept=kept is not None)
            if posted is not None:
                return posted
            services.conversations.evict(project_id, request_id)
        else:
            # None: created here (a concurrent first message that creates it meanwhile
            # is found by do_create_request, whose insert waits for it). Closed or
            # someone else's: decided on the row read locked, in this transaction.
            row = None if stored is None else await requests.get_request(
                tx, project_id, request_id, lock=True)
            return await _post_locked(services, tx, access, request_id, incoming, now, row,
                                      member=member)
    return None


async def _post_locked(
    services: Services,
    tx: Transaction,
    access: ProjectAccess,
    request_id: str,
    incoming: IncomingMessage,
    now: int,
    row: RequestRecord | None,
    *,
    member: VisitorMemberRecord | None = None,
) -> tuple[MessagePublic, RequestPublic]:
    """The message, ``row`` read locked within ``tx`` (None: no such conversation yet);
    ``member``, the visitor's membership if it was read with the conversation's absence."""
    principal = access.principal
    created = False
    department = None
    message = _new_message(access, request_id, incoming, now, services.ids.object_id())
    opening = _changes(0, message)  # a new conversation's, stored with it
    with_conversation = False  # the message inserted by its new conversation's statement
    if row is None:
        if isinstance(principal, Agent):
            raise NotFound(
                "a conversation is opened by its visitor's first message",
                code="request_not_found",
            )
        # A message naming no file is final already (do_attach_file leaves it as it is).
        with_conversation = not _names_a_file(access.project["id"], incoming)
        row, created, department = await do_create_request(
            services,
            tx,
            access,
            NewRequest(
                request_id=request_id,
                first_text=incoming.text,
                department_id=incoming.department_id,
                attributes=incoming.attributes,
                self_reported=_self_reported(incoming),
                source_page=incoming.source_page,
                language=incoming.language,
                user_agent=incoming.user_agent,
                channel=incoming.channel,
                first_message=opening,
                message=message if with_conversation else None,
            ),
            member=member,
        )
    elif isinstance(principal, Agent) and row["held_tier"]:
        # Held back from agents until its visitor verifies: to them it is not there.
        raise NotFound(f"no request {request_id!r} in this project", code="request_not_found")
    elif not can_see_request(principal, row):
        raise Forbidden("this conversation belongs to someone else", code="not_your_request")
    elif row["status"] == RequestStatus.CLOSED:
        if isinstance(principal, Agent):
            raise Conflict("reopen the conversation to write in it", code="request_closed")
        row = await reopen_for_visitor(services, tx, row)
    if not with_conversation:
        message["metadata"] = await do_attach_file(services, tx, access, row, incoming.type,
                                                   incoming.metadata, message["id"])
        await messages.insert_message(tx, message)
    if created:
        row = requests.with_first_message(row, opening)
    else:
        row = await apply_changes(tx, row, now=now,
                                  **_changes(row["visitor_messages"], message))
    if message["sender_kind"] == "agent":
        await do_note_agent_reply(services, tx, row)
    posted = _announce(services, tx, row, message)
    if created:  # after the first message, in the history and on the sockets
        await do_tell_new_conversation(services, tx, access, row, department)
    return posted


async def _post_into_open_conversation(
    services: Services,
    tx: Transaction,
    access: ProjectAccess,
    stored: StoredConversation,
    incoming: IncomingMessage,
    now: int,
    *,
    kept: bool,
) -> tuple[MessagePublic, RequestPublic] | None:
    """A visitor's message into its own open conversation (``_open_to``), ``stored`` read
    without a lock or, with ``kept``, kept by this process: the message and the
    conversation's update are one write that lands only if the conversation is still as read,
    and a kept one also with its requester's membership and lead as kept
    (``requests.append_message``; on PostgreSQL one statement without ``BEGIN``, where the
    locked way costs four round trips; on SQLite, whose transaction holds the write lock, one
    just read always lands). Once committed, the conversation is kept for the next message,
    with its presentation: a kept one's next message presents only what it changes.

    None, with nothing written and ``tx`` over, when the conversation changed since.
    """
    row = stored.stored  # its plain columns, as stored
    message = _new_message(access, row["request_id"], incoming, now, services.ids.object_id())
    changes = _changes(row["visitor_messages"], message)
    version = await requests.append_message(
        tx, message, row["id"], version=row["version"],
        requester_user_id=row["requester_user_id"], now=now,
        joined=row if kept else None, **changes,
    )
    if version is None:
        return None
    before = cast("RequestPublic | None", stored.presented) or present_request(stored.record())
    body = present_request_after_message(before, changes, now)
    publish_request(services, tx, body, version=version, held=bool(row["held_tier"]))
    posted = announce_message(services, tx, row, message), body
    after = stored.after(changes, now=now, version=version, presented=body)

    async def keep() -> None:  # after the announcement's hooks, which evict older copies
        services.conversations.put(after)

    tx.on_commit(keep)
    return posted


def _open_to(access: ProjectAccess, stored: StoredConversation) -> bool:
    """Whether the caller may write into ``stored`` as it is, without reopening it."""
    return (stored.stored["status"] != RequestStatus.CLOSED
            and can_see_request(access.principal, stored.visible_part()))


def _names_a_file(project_id: str, incoming: IncomingMessage) -> bool:
    """Whether the message is, or points at, an uploaded file (``files.do_attach_file``)."""
    return (
        incoming.type in FILE_MESSAGE_TYPES
        or referenced_file(project_id, incoming.metadata) is not None
    )


def _new_message(
    access: ProjectAccess, request_id: str, incoming: IncomingMessage, now: int, id: str
) -> MessageRecord:
    principal = access.principal
    # The side a message is drawn on comes from who the server knows sent it, never from the
    # display name (a customer token may say "Support Team").
    sender_kind: SenderKind = "agent" if isinstance(principal, Agent) else "visitor"
    if principal.is_authenticated:
        fullname = principal.display_name
    else:
        fullname = (incoming.sender_fullname or principal.fullname or "guest").strip()[:200]
    return {
        "id": id,
        "project_id": access.project["id"],
        "request_id": request_id,
        "sender": principal.id,
        "sender_kind": sender_kind,
        "sender_fullname": fullname,
        "text": incoming.text,
        "type": incoming.type,
        "attributes": strip_reserved(incoming.attributes),
        "metadata": incoming.metadata,
        "status": SENT,
        "created_at": now,
    }


def _changes(visitor_messages: int, message: MessageRecord) -> dict[str, Any]:
    """What a message changes in a conversation that counted ``visitor_messages`` before."""
    changes: dict[str, Any] = {
        "last_text": message["text"],
        "last_message_id": message["id"],
        "last_message_at": message["created_at"],
        "last_sender_kind": message["sender_kind"],
    }
    if message["sender_kind"] == "visitor":  # from the row as read: its count grows by one
        changes["visitor_messages"] = visitor_messages + 1
    return changes


def _announce(
    services: Services, tx: Transaction, row: RequestRecord, message: MessageRecord
) -> tuple[MessagePublic, RequestPublic]:
    """The message and its conversation as they are after it, told to the sockets once
    ``tx`` commits."""
    request = notify_request(services, tx, row, "UPDATE")
    return announce_message(services, tx, row, message), request


async def list_messages(
    services: Services,
    access: ProjectAccess,
    request_id: str,
    *,
    limit: int,
    after: str | None,
    before: str | None,
    latest: bool = False,
) -> list[MessagePublic]:
    """Messages oldest first; ``after``/``before`` are message ids (exclusive cursors);
    ``latest`` without a cursor gives the newest ``limit`` messages."""
    await access_request(services, access, request_id)
    after_key = await _cursor(services, request_id, after)
    before_key = await _cursor(services, request_id, before)
    rows = await messages.list_messages(
        services.db, request_id, limit=limit, after=after_key, before=before_key, latest=latest
    )
    return [present_message(r) for r in rows]


async def _cursor(
    services: Services, request_id: str, message_id: str | None
) -> tuple[int, str] | None:
    if message_id is None:
        return None
    row = await messages.get_message(services.db, request_id, message_id)
    if row is None:
        raise ValidationFailed(
            f"no message {message_id!r} in this conversation", code="unknown_cursor"
        )
    return (row["created_at"], row["id"])
