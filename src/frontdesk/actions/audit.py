"""The audit log: who signed in how, what failed and why, what admins changed, and what agents
did to conversations, the team and the tag library.

Successful events are written in the transaction of the change they describe, so an event
exists exactly when its change does. A failed sign-in writes its event in a transaction of its
own (the sign-in itself wrote nothing) and is flagged ``suspicious_burst`` when the project has
seen ``audit_burst_threshold`` failures within ``audit_burst_window`` seconds.

Failed sign-ins need no credentials, so what they write is bounded: repeats of one refusal (same
code, same address) within the burst window add to the ``occurrences`` of one row instead of
writing new ones, and every untrusted field is cut to a bounded length without control
characters before it is stored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from frontdesk.actions.access import ProjectAccess
from frontdesk.auth.principals import Agent
from frontdesk.errors import ValidationFailed
from frontdesk.models.audit import AuditPublic, present_event
from frontdesk.services import Services
from frontdesk.storage import audit
from frontdesk.storage.database import Queries
from frontdesk.storage.rows import NewRow

EventType = Literal[
    "signin.anonymous",
    "signin.custom",
    "signin.failed",
    "key.created",
    "key.rotated",
    "key.retired",
    "policy.changed",
    "merge",
    "merge.reverted",
    "session.revoked",
    "lead.erased",
    "lead.exported",
    "retention.erased",
    "invitation.created",
    "invitation.accepted",
    "invitation.withdrawn",
    "note.deleted",
    "presence.away",
    "presence.back",
    # Agents' actions on conversations, the team and the tag library.
    "request.assigned",
    "request.reassigned",
    "request.closed",
    "request.reopened",
    "member.role_changed",
    "member.removed",
    "tag.deleted",
    "tag.removed",
    "email.code_sent",
    "email.code_failed",
    "email.verified",
    "verification.requested",
    "continuity.sent",
    "continuity.link_used",
]
SIGNIN_FAILED: EventType = "signin.failed"
MAX_FIELD_LENGTH = 200
MAX_DETAILS_BYTES = 1024
# Control characters (NUL among them) and lone surrogates: PostgreSQL text refuses NUL and
# UTF-8 has no surrogates; the others only serve to garble a reader's screen.
_UNSTORABLE = frozenset({"Cc", "Cs"})


@dataclass(frozen=True)
class AuditEvent:
    type: EventType
    actor: str | None = None  # the agent's user id, the visitor's id, or "system"
    subject: str | None = None  # what the event is about: a visitor id, a kid, a merge id
    kid: str | None = None
    code: str | None = None  # the refusal code of a failure
    ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


async def record(services: Services, q: Queries, project_id: str, event: AuditEvent) -> None:
    """Write ``event`` with ``q`` (normally the transaction of the change it describes)."""
    await _insert(services, q, project_id, event, suspicious=False)


async def record_agent_action(
    services: Services,
    q: Queries,
    access: ProjectAccess,
    type: EventType,
    *,
    subject: str | None,
    details: dict[str, Any],
) -> None:
    """Write what the calling agent did, with ``q`` (the transaction of that change); a
    visitor's own actions (closing its conversation) are not agents' actions and write nothing.
    """
    if isinstance(access.principal, Agent):
        await record(services, q, access.project["id"], AuditEvent(
            type, actor=access.principal.user_id, subject=subject, details=details,
        ))


async def record_failed_signin(services: Services, project_id: str, event: AuditEvent) -> bool:
    """Write a failed sign-in in its own transaction, or count it on the row of the same
    refusal from the same address begun within the burst window; True when the project's
    failures within the window reach the burst threshold."""
    now = services.now_ms()
    since = now - services.settings.audit_burst_window * 1000
    event = sanitised(event)
    async with services.db.transaction() as tx:
        await audit.lock_summary(tx, project_id, SIGNIN_FAILED, event.code, event.ip)
        earlier = await audit.count_since(tx, project_id, SIGNIN_FAILED, since)
        suspicious = _is_burst(services, earlier + 1)
        summary = await audit.find_summary(
            tx, project_id, SIGNIN_FAILED, code=event.code, ip=event.ip, since=since
        )
        if summary is None:
            await _insert(services, tx, project_id, event, suspicious=suspicious)
        else:
            await audit.add_occurrence(tx, summary, at=now, suspicious=suspicious)
    return suspicious


def sanitised(event: AuditEvent) -> AuditEvent:
    """``event`` with every text cut to MAX_FIELD_LENGTH characters, without control
    characters, and details larger than MAX_DETAILS_BYTES as JSON replaced by a note."""
    details = _clean_value(event.details)
    if len(orjson.dumps(details)) > MAX_DETAILS_BYTES:
        details = {"truncated": True}
    return replace(
        event,
        actor=_clean_text(event.actor),
        subject=_clean_text(event.subject),
        kid=_clean_text(event.kid),
        code=_clean_text(event.code),
        ip=_clean_text(event.ip),
        details=details,
    )


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in _UNSTORABLE)
    return kept[:MAX_FIELD_LENGTH]


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {str(_clean_text(str(k))): _clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_value(v) for v in value]
    return value


async def _insert(
    services: Services, q: Queries, project_id: str, event: AuditEvent, *, suspicious: bool
) -> None:
    await audit.insert_event(q, new_row(services, project_id, event, suspicious=suspicious))


def new_row(
    services: Services, project_id: str, event: AuditEvent, *, suspicious: bool = False
) -> NewRow:
    """``event``'s row in the project's log, for a statement that inserts it with others."""
    return audit.new_event(
        id=services.ids.object_id(),
        project_id=project_id,
        type=event.type,
        at=services.now_ms(),
        actor=event.actor,
        subject=event.subject,
        kid=event.kid,
        code=event.code,
        ip=event.ip,
        suspicious=suspicious,
        details=event.details,
    )


async def list_audit(
    services: Services,
    access: ProjectAccess,
    *,
    type: str | None,
    subject: str | None,
    before: str | None,
    limit: int,
) -> AuditPublic:
    """Newest first; ``before`` is the id of the last event of the previous page.

    ``suspiciousBurst`` says whether a burst of failed sign-ins is under way now.
    """
    project_id = access.project["id"]
    cursor = None
    if before is not None:
        row = await audit.get_event(services.db, project_id, before)
        if row is None:
            raise ValidationFailed(f"no audit event {before!r}", code="unknown_cursor")
        cursor = (row["at"], row["id"])
    rows = await audit.list_events(
        services.db, project_id, type=type, subject=subject, before=cursor, limit=limit
    )
    return {
        "events": [present_event(r) for r in rows],
        "suspiciousBurst": await burst_under_way(services, project_id),
        "next": rows[-1]["id"] if len(rows) == limit else None,
    }


async def burst_under_way(services: Services, project_id: str) -> bool:
    since = services.now_ms() - services.settings.audit_burst_window * 1000
    failures = await audit.count_since(services.db, project_id, SIGNIN_FAILED, since)
    return _is_burst(services, failures)


def _is_burst(services: Services, failures: int) -> bool:
    """Whether ``failures`` within one burst window make a burst (a threshold of 0: never)."""
    threshold = services.settings.audit_burst_threshold
    return threshold > 0 and failures >= threshold
