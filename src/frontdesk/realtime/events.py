"""Realtime events: closed, typed models built by the action that changed the data.

Actions register them with ``tx.on_commit`` so nothing leaves before the database commit.
Payloads are the public shapes REST answers use (``frontdesk.models``). Actions build events
with ``model_construct``: the payloads come from the presenters, and validating them again on
every message would cost the hot path; the test suite validates every published event
(``check_event`` under ``settings.check_responses``).
Each event knows the topics it is published on (docs/realtime.md). ``TypingChanged`` and
``MessagesRead`` are ephemeral: nothing is stored, so they are published at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from frontdesk.models.messages import MessagePublic
from frontdesk.models.notes import NotePublic
from frontdesk.models.project_users import ProjectUserPublic
from frontdesk.models.read_markers import ReadMarkerPublic
from frontdesk.models.requests import RequestPublic, RequestVisitorPublic

# What a publish frame carries: the public shape of a request, a message or a member.
WireObject = RequestPublic | RequestVisitorPublic | MessagePublic | ProjectUserPublic


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    project_id: str

    def topics(self) -> list[str]:
        raise NotImplementedError


class RequestChanged(_Event):
    """A request was created or changed (status, participants, attributes, rating…)."""

    type: Literal["request"] = "request"
    method: Literal["CREATE", "UPDATE"]
    request_id: str
    requester_user_id: str
    request: RequestPublic
    # The request's version once this change committed: it grows in commit order, so a
    # process that hears an older version after a newer one drops it (realtime/versions.py).
    version: int
    # A change only agents can see (a private note): visitors' sockets are not told of it.
    agents_only: bool = False
    # Held back from agents until its visitor reaches its department's tier: only the
    # visitor's own sockets hear it.
    held: bool = False

    def topics(self) -> list[str]:
        return [f"/{self.project_id}/requests", f"/{self.project_id}/requests/{self.request_id}"]


class MessageCreated(_Event):
    type: Literal["message"] = "message"
    method: Literal["CREATE"] = "CREATE"
    request_id: str
    requester_user_id: str
    message: MessagePublic

    def topics(self) -> list[str]:
        return [f"/{self.project_id}/requests/{self.request_id}/messages"]


class ProjectUserChanged(_Event):
    """An agent's membership changed (availability, role)."""

    type: Literal["project_user"] = "project_user"
    method: Literal["CREATE", "UPDATE"] = "UPDATE"
    project_user_id: str
    project_user: ProjectUserPublic

    def topics(self) -> list[str]:
        return [f"/{self.project_id}/project_users/{self.project_user_id}"]


class NoteMentioned(_Event):
    """A private note named an agent with ``@``: that agent's own sockets hear of it on its
    ``/<pid>/project_users/<id>`` topic (action ``mention``)."""

    type: Literal["mention"] = "mention"
    request_id: str
    project_user_id: str  # the mentioned agent's membership
    user_id: str  # the mentioned agent's account
    by_user_id: str
    by_fullname: str
    note: NotePublic

    def topics(self) -> list[str]:
        return [f"/{self.project_id}/project_users/{self.project_user_id}"]


class ReadMarkerChanged(_Event):
    """An agent's read marker moved: that agent's other browsers update their unread counts.

    Published on the agent's own member topic and delivered only to that agent's sockets.
    """

    type: Literal["read_marker"] = "read_marker"
    method: Literal["UPDATE"] = "UPDATE"
    project_user_id: str
    user_id: str
    marker: ReadMarkerPublic

    def topics(self) -> list[str]:
        return [f"/{self.project_id}/project_users/{self.project_user_id}"]


def _conversation_topics(project_id: str, request_id: str) -> list[str]:
    return [f"/{project_id}/requests/{request_id}", f"/{project_id}/requests/{request_id}/messages"]


class TypingChanged(_Event):
    """Someone in a conversation started or stopped typing. Never stored."""

    type: Literal["typing"] = "typing"
    request_id: str
    user_id: str
    fullname: str
    typing: bool

    def topics(self) -> list[str]:
        return _conversation_topics(self.project_id, self.request_id)


class MessagesRead(_Event):
    """Someone in a conversation has read it up to ``message_id``. Never stored."""

    type: Literal["read"] = "read"
    request_id: str
    user_id: str
    message_id: str
    read_at: int  # epoch ms

    def topics(self) -> list[str]:
        return _conversation_topics(self.project_id, self.request_id)


class MembershipRevoked(_Event):
    """An agent left a project's team: its sockets stop hearing that project at once."""

    type: Literal["membership_revoked"] = "membership_revoked"
    user_id: str

    def topics(self) -> list[str]:
        return []


class AccessChanged(_Event):
    """Who may read part of a project changed: every process re-checks the sockets concerned.

    Scope: only the sockets of ``visitor_ids`` (empty: every visitor of the project) and only
    the topics of ``request_ids`` (empty: every topic of the project). Each re-check uses the
    access rules of a REST read; what is no longer allowed is unsubscribed or closed.
    """

    type: Literal["access_changed"] = "access_changed"
    reason: Literal["merge_reverted", "policy_changed"]
    visitor_ids: list[str] = Field(default_factory=list)
    request_ids: list[str] = Field(default_factory=list)

    def topics(self) -> list[str]:
        return []


class ProjectChanged(_Event):
    """A project's row or keys, or with ``user_id`` that agent's membership, changed or went
    away: every process forgets its cached copy (``auth.project_cache``). No socket hears it."""

    type: Literal["project_changed"] = "project_changed"
    user_id: str | None = None

    def topics(self) -> list[str]:
        return []


class SessionRevoked(_Event):
    """A session ended: sockets authenticated with it must close at once."""

    type: Literal["session_revoked"] = "session_revoked"
    project_id: str | None = None  # type: ignore[assignment]
    jti: str

    def topics(self) -> list[str]:
        return []


Event = Annotated[
    RequestChanged
    | MessageCreated
    | ProjectUserChanged
    | NoteMentioned
    | ReadMarkerChanged
    | TypingChanged
    | MessagesRead
    | MembershipRevoked
    | SessionRevoked
    | AccessChanged
    | ProjectChanged,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
# Events that take access away (a changed project or membership may): a process must not miss
# them, so one that could not be published is published again once Redis answers (see
# ``redis_broker``).
ACCESS_EVENTS = (SessionRevoked, MembershipRevoked, AccessChanged, ProjectChanged)


_WIRE_OBJECTS: TypeAdapter[list[WireObject]] = TypeAdapter(list[WireObject])


def check_wire_objects(objects: Sequence[WireObject]) -> None:
    """Validate what a publish frame carries (a subscription's snapshot); ValidationError if
    an object is none of the public shapes."""
    _WIRE_OBJECTS.validate_python(list(objects))


def check_event(event: Event) -> None:
    """Validate ``event`` against its declared model; ValidationError if it breaks it."""
    # The attributes as set, not a dump: a dump would drop the keys a payload must not have.
    EVENT_ADAPTER.validate_python(vars(event))
