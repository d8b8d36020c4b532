"""The four topic shapes of docs/realtime.md, parsed once so nothing downstream splits strings.

/<pid>/requests                       new and changed requests of a project
/<pid>/requests/<rid>                 one request's changes
/<pid>/requests/<rid>/messages        one request's messages
/<pid>/project_users/<id>             one team member (availability, role)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from frontdesk.errors import BadRequest
from frontdesk.ids import parse_request_id

TopicKind = Literal["requests", "request", "messages", "project_user"]

_OID = r"[0-9a-f]{24}"
_PATTERNS: list[tuple[TopicKind, re.Pattern[str]]] = [
    ("requests", re.compile(rf"/(?P<pid>{_OID})/requests")),
    ("request", re.compile(rf"/(?P<pid>{_OID})/requests/(?P<rid>[^/]{{1,120}})")),
    ("messages", re.compile(rf"/(?P<pid>{_OID})/requests/(?P<rid>[^/]{{1,120}})/messages")),
    ("project_user", re.compile(rf"/(?P<pid>{_OID})/project_users/(?P<puid>{_OID})")),
]


@dataclass(frozen=True)
class Topic:
    name: str
    kind: TopicKind
    project_id: str
    request_id: str | None = None
    project_user_id: str | None = None

    @property
    def conversation(self) -> tuple[str, str] | None:
        """(project id, request id) for the two per-request topics, else None."""
        if self.request_id is None:
            return None
        return self.project_id, self.request_id


def parse_topic(name: str) -> Topic:
    """The topic ``name`` denotes; BadRequest(unknown_topic) when it is none of the four."""
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(name)  # in full: "$" would let a trailing newline through
        if match is None:
            continue
        groups = match.groupdict()
        request_id = groups.get("rid")
        if request_id is not None and parse_request_id(request_id) != groups["pid"]:
            break
        return Topic(name, kind, groups["pid"], request_id, groups.get("puid"))
    raise BadRequest(
        "topics are /<pid>/requests, /<pid>/requests/<rid>, /<pid>/requests/<rid>/messages"
        " or /<pid>/project_users/<id>",
        code="unknown_topic",
    )
