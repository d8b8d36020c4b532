"""Realtime subscriptions: who may listen to a topic, what it replays, ephemeral signals.

``access_topic`` is the one place that decides whether a principal may subscribe; it relies on
``access_project`` and ``access_request`` like every REST read. ``topic_snapshot`` is the
guarded read that a subscribe replays before live events. ``notify_typing`` and
``check_mark_read`` publish the ephemeral events of a conversation (never stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontdesk.actions.access import ProjectAccess, access_project, access_request
from frontdesk.actions.requests import CLOSED
from frontdesk.auth.principals import Agent, Principal
from frontdesk.errors import NotFound, ValidationFailed
from frontdesk.presenters import (
    present_message,
    present_project_user,
    present_request,
    request_view_for,
)
from frontdesk.realtime.events import MessagesRead, TypingChanged
from frontdesk.realtime.topics import Topic
from frontdesk.services import Services
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
    objects: list[dict[str, Any]]
    complete: bool  # False when more was missed than a subscribe replays


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
    if topic.kind == "requests":
        return await _requests_snapshot(services, topic.project_id, cursor)
    if topic.kind == "messages":
        assert topic.request_id is not None
        return await _messages_snapshot(services, topic.request_id, cursor)
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


async def _requests_snapshot(services: Services, project_id: str, cursor: Cursor) -> Snapshot:
    # Resuming, every request changed since then, closed ones too; otherwise the open ones.
    filt = (
        RequestFilter(updated_since=cursor.since)
        if cursor.since is not None
        else RequestFilter(max_status=CLOSED)
    )
    rows, total = await requests.list_requests(
        services.db, project_id, filt, limit=SNAPSHOT_LIMIT, offset=0
    )
    rows.reverse()  # oldest change first, as live updates would have come
    return Snapshot([present_request(r) for r in rows], complete=total <= SNAPSHOT_LIMIT)


async def _messages_snapshot(services: Services, request_id: str, cursor: Cursor) -> Snapshot:
    if cursor.after is None and cursor.since is None:
        rows = await messages.list_messages(
            services.db, request_id, limit=SNAPSHOT_LIMIT, before=_NEWEST
        )
        return Snapshot([present_message(r) for r in rows], complete=True)
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
    missed: list[dict[str, Any]] = []
    while len(missed) < REPLAY_LIMIT:
        page = await messages.list_messages(services.db, request_id, limit=200, after=key)
        missed.extend(present_message(r) for r in page)
        if len(page) < 200:
            return Snapshot(missed[:REPLAY_LIMIT], complete=len(missed) <= REPLAY_LIMIT)
        key = (page[-1]["created_at"], page[-1]["id"])
    return Snapshot(missed[:REPLAY_LIMIT], complete=False)


def _who(principal: Principal) -> tuple[str, str]:
    if isinstance(principal, Agent):
        return principal.user_id, principal.fullname or principal.email
    return principal.visitor_id, principal.fullname or principal.visitor_id


async def notify_typing(
    services: Services, principal: Principal, topic: Topic, typing: bool
) -> None:
    """Tell the conversation that ``principal`` started or stopped typing.

    Preconditions: ``access_topic`` allowed ``topic`` for ``principal`` (the hub only lets
    subscribers of a conversation signal in it).
    """
    assert topic.request_id is not None
    user_id, fullname = _who(principal)
    await services.broker.publish(
        TypingChanged(
            project_id=topic.project_id,
            request_id=topic.request_id,
            user_id=user_id,
            fullname=fullname,
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
    user_id, _ = _who(principal)
    await services.broker.publish(
        MessagesRead(
            project_id=topic.project_id,
            request_id=topic.request_id,
            user_id=user_id,
            message_id=message_id,
            read_at=services.now_ms(),
        )
    )
