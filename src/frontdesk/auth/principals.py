"""The kinds of caller. Every authenticated request resolves to exactly one of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

AgentRole = Literal["owner", "admin", "agent"]
AGENT_ROLES: tuple[AgentRole, ...] = ("owner", "admin", "agent")
ROLE_RANK: dict[str, int] = {"agent": 1, "admin": 2, "owner": 3}


@dataclass(frozen=True)
class Agent:
    user_id: str
    email: str
    firstname: str
    lastname: str
    jti: str | None  # None when the agent authenticated with HTTP Basic

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
