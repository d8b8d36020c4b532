"""Realtime subscriptions: who may listen to a topic, what it replays, ephemeral signals.

``access_topic`` is the one place that decides whether a principal may subscribe; it relies on
``access_project`` and ``access_request`` like every REST read. ``topic_snapshot`` is the
guarded read that a subscribe replays before live events: one page, at most
``SNAPSHOT_LIMIT`` objects (``REPLAY_LIMIT`` messages on a resume) and at most
``ws_snapshot_bytes`` of them as JSON, so one subscribe never builds a frame larger than a
socket's send queue holds; ``complete: false`` tells the client to page the rest.
``notify_typing`` and ``check_mark_read`` publish the ephemeral events of a conversation
(never stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from frontdesk import jsonutil
from frontdesk.actions.access import ProjectAccess, access_project, access_request
from frontdesk.auth.principals import Principal
from frontdesk.errors import NotFound, ValidationFailed
from frontdesk.models.messages import MessagePublic, present_message
from frontdesk.models.project_users import present_project_user
from frontdesk.models.requests import present_request, request_view_for
from frontdesk.realtime.events import MessagesRead, TypingChanged, WireObject
from frontdesk.realtime.topics import Topic
from frontdesk.services import Services
from frontdesk.statuses import RequestStatus
from frontdesk.storage import messages, project_users, requests, users
from frontdesk.storage.requests import RequestFilter

SNAPSHOT_LIMIT = 100  # requests or messages sent on a subscribe without a cursor
REPLAY_LIMIT = 1000  # most messages replayed on a resume; the rest is for REST paging
_NEWEST = (2**62, "")  # a cursor after every message, to read the newest ones


@dataclass(frozen=True)
class Cursor:
    """Where a resuming client stopped: the last message id seen, or a time (epoch ms)."""

    after: str | None = None
    since: int | None = None


@dataclass(frozen=True)
class Snapshot:
    objects: Sequence[WireObject]
    complete: bool  # False when the page left out some of what was asked for


_Object = TypeVar("_Object", bound=WireObject)


def _fit(objects: list[_Object], budget: int, *, keep: str) -> list[_Object]:
    """The longest run of ``objects`` from the ``keep`` end ("first" or "last") whose JSON
    fits in ``budget`` bytes; at least one object, so a client always makes progress."""
    ordered = objects if keep == "first" else objects[::-1]
    fitted: list[_Object] = []
    used = 0
    for obj in ordered:
        used += len(jsonutil.dumpb(obj)) + 1  # the comma between list items
        if fitted and used > budget:
            break
        fitted.append(obj)
    return fitted if keep == "first" else fitted[::-1]


async def access_topic(services: Services, principal: Principal, topic: Topic) -> ProjectAccess:
    """The caller's access to ``topic``'s project, if it may subscribe to ``topic``.

    Project-wide topics are for the project's agents; a request's topics for its agents and
    its requester. Raises Forbidden (wrong_project, agents_only, not_your_request, …) or
    NotFound (unknown_project, request_not_found, project_user_not_found).
    """
    if topic.request_id is None:
        access = await access_project(services, principal, topic.project_id)
    else:
        access = await access_project(services, principal, topic.project_id, visitors=True)
        await access_request(services, access, topic.request_id)
    if topic.project_user_id is not None:
        row = await project_users.get_project_user(
            services.db, topic.project_id, topic.project_user_id
        )
        if row is None:
            raise NotFound("no such member in this project", code="project_user_not_found")
    return access


async def topic_snapshot(
    services: Services, access: ProjectAccess, topic: Topic, cursor: Cursor
) -> Snapshot:
    """What a subscriber sees first: the current state, or what it missed since ``cursor``.

    Preconditions: ``access_topic`` allowed ``topic``. Raises ValidationFailed(unknown_cursor)
    when ``cursor.after`` is not a message of the request.
    """
    budget = services.settings.ws_snapshot_bytes
    if topic.kind == "requests":
        return await _requests_snapshot(services, topic.project_id, cursor, budget)
    if topic.kind == "messages":
        assert topic.request_id is not None
        return await _messages_snapshot(services, topic.request_id, cursor, budget)
    if topic.kind == "request":
        assert topic.request_id is not None
        row = await access_request(services, access, topic.request_id)
        return Snapshot([request_view_for(access.principal, present_request(row))], complete=True)
    assert topic.project_user_id is not None
    member = await project_users.get_project_user(
        services.db, topic.project_id, topic.project_user_id
    )
    assert member is not None
    user = await users.get_user(services.db, member["user_id"])
    return Snapshot([present_project_user(member, user)], complete=True)


async def _requests_snapshot(
    services: Services, project_id: str, cursor: Cursor, budget: int
) -> Snapshot:
    # Resuming, every request changed since then, closed ones too; otherwise the open ones.
    filt = (
        RequestFilter(updated_since=cursor.since, held=False)
        if cursor.since is not None
        else RequestFilter(max_status=RequestStatus.CLOSED, held=False)
    )
    rows, total = await requests.list_requests(
        services.db, project_id, filt, limit=SNAPSHOT_LIMIT, offset=0
    )
    rows.reverse()  # oldest change first, as live updates would have come
    page = _fit([present_request(r) for r in rows], budget, keep="last")
    return Snapshot(page, complete=total <= SNAPSHOT_LIMIT and len(page) == len(rows))


async def _messages_snapshot(
    services: Services, request_id: str, cursor: Cursor, budget: int
) -> Snapshot:
    if cursor.after is None and cursor.since is None:
        rows = await messages.list_messages(
            services.db, request_id, limit=SNAPSHOT_LIMIT, before=_NEWEST
        )
        # The newest messages that fit; older ones are paged with ?before=<oldest sent>.
        page = _fit([present_message(r) for r in rows], budget, keep="last")
        return Snapshot(page, complete=len(page) == len(rows))
    if cursor.after is not None:
        last = await messages.get_message(services.db, request_id, cursor.after)
        if last is None:
            raise ValidationFailed(
                f"no message {cursor.after!r} in this conversation", code="unknown_cursor"
            )
        key: tuple[int, str] = (last["created_at"], last["id"])
    else:
        assert cursor.since is not None
        key = (cursor.since, "")  # inclusive of that millisecond: may repeat, never misses
    # The oldest missed messages first and without a gap, so the client resumes again (or
    # pages over REST) after the last one it received. Reading stops once a page is full.
    missed: list[MessagePublic] = []
    read_all = False
    while not read_all and len(missed) <= REPLAY_LIMIT and _json_size(missed) <= budget:
        rows = await messages.list_messages(services.db, request_id, limit=200, after=key)
        missed.extend(present_message(r) for r in rows)
        read_all = len(rows) < 200
        if rows:
            key = (rows[-1]["created_at"], rows[-1]["id"])
    page = _fit(missed[:REPLAY_LIMIT], budget, keep="first")
    return Snapshot(page, complete=read_all and len(page) == len(missed))


def _json_size(objects: Sequence[WireObject]) -> int:
    return len(jsonutil.dumpb(objects))


async def notify_typing(
    services: Services, principal: Principal, topic: Topic, typing: bool
) -> None:
    """Tell the conversation that ``principal`` started or stopped typing.

    Preconditions: ``access_topic`` allowed ``topic`` for ``principal`` (the hub only lets
    subscribers of a conversation signal in it).
    """
    assert topic.request_id is not None
    await services.broker.publish(
        TypingChanged(
            project_id=topic.project_id,
            request_id=topic.request_id,
            user_id=principal.id,
            fullname=principal.display_name,
            typing=typing,
        )
    )


async def check_mark_read(
    services: Services, principal: Principal, topic: Topic, message_id: str
) -> None:
    """Tell the conversation that ``principal`` has read it up to ``message_id``.

    Preconditions as ``notify_typing``. Raises NotFound(message_not_found) when the message is
    not in this conversation.
    """
    assert topic.request_id is not None
    if await messages.get_message(services.db, topic.request_id, message_id) is None:
        raise NotFound("no such message in this conversation", code="message_not_found")
    await services.broker.publish(
        MessagesRead(
            project_id=topic.project_id,
            request_id=topic.request_id,
            user_id=principal.id,
            message_id=message_id,
            read_at=services.now_ms(),
        )
    )
