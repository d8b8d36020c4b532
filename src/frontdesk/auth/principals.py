"""The kinds of caller. Every authenticated request resolves to exactly one of these.

All of them are a ``Caller``: an ``id`` (the agent's user id or the visitor's id, as messages
and participants name them), a ``display_name`` and ``is_authenticated`` (an agent, or a
visitor whose identity a customer token vouches for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

AgentRole = Literal["owner", "admin", "agent"]
AGENT_ROLES: tuple[AgentRole, ...] = ("owner", "admin", "agent")
ROLE_RANK: dict[str, int] = {"agent": 1, "admin": 2, "owner": 3}


class Caller(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def is_authenticated(self) -> bool: ...


@dataclass(frozen=True)
class Agent:
    user_id: str
    email: str
    firstname: str
    lastname: str
    jti: str | None  # None when the agent authenticated with HTTP Basic

    @property
    def id(self) -> str:
        return self.user_id

    @property
    def display_name(self) -> str:
        return self.fullname or self.email

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}".strip()


@dataclass(frozen=True)
class Visitor:
    """A widget user of one project. Its identity comes only from a verified token."""

    visitor_id: str
    project_id: str
    jti: str
    firstname: str = ""
    lastname: str = ""
    email: str | None = None
    auth_info: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None  # the browser's Origin header on this call, checked per project

    role: Literal["guest", "user"] = "guest"

    @property
    def id(self) -> str:
        return self.visitor_id

    @property
    def display_name(self) -> str:
        return self.fullname or self.visitor_id

    @property
    def is_authenticated(self) -> bool:
        return self.role != "guest"

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}".strip()


@dataclass(frozen=True)
class AnonymousVisitor(Visitor):
    role: Literal["guest", "user"] = "guest"


@dataclass(frozen=True)
class AuthenticatedVisitor(Visitor):
    role: Literal["guest", "user"] = "user"


Principal = Agent | AnonymousVisitor | AuthenticatedVisitor
