"""The identity audit log: who signed in how, what failed and why, what admins changed.

Successful events are written in the transaction of the change they describe, so an event
exists exactly when its change does. A failed sign-in writes its event in a transaction of its
own (the sign-in itself wrote nothing) and is flagged ``suspicious_burst`` when the project has
seen ``audit_burst_threshold`` failures within ``audit_burst_window`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from frontdesk.actions.access import ProjectAccess
from frontdesk.clock import iso
from frontdesk.errors import ValidationFailed
from frontdesk.services import Services
from frontdesk.storage import audit
from frontdesk.storage.database import Queries, Row

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
]
SIGNIN_FAILED: EventType = "signin.failed"
SUSPICIOUS_BURST = "suspicious_burst"


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


async def record_failed_signin(services: Services, project_id: str, event: AuditEvent) -> bool:
    """Write a failed sign-in in its own transaction; True when it completes a burst."""
    threshold = services.settings.audit_burst_threshold
    since = services.now_ms() - services.settings.audit_burst_window * 1000
    async with services.db.transaction() as tx:
        earlier = await audit.count_since(tx, project_id, SIGNIN_FAILED, since)
        suspicious = threshold > 0 and earlier + 1 >= threshold
        await _insert(services, tx, project_id, event, suspicious=suspicious)
    return suspicious


async def _insert(
    services: Services, q: Queries, project_id: str, event: AuditEvent, *, suspicious: bool
) -> None:
    await audit.insert_event(
        q,
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
) -> dict[str, Any]:
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
    threshold = services.settings.audit_burst_threshold
    return threshold > 0 and failures >= threshold


def present_event(row: Row) -> dict[str, Any]:
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "type": row["type"],
        "at": iso(row["at"]),
        "actor": row["actor"],
        "subject": row["subject"],
        "kid": row["kid"],
        "code": row["code"],
        "ip": row["ip"],
        "flags": [SUSPICIOUS_BURST] if row["suspicious"] else [],
        "details": row["details"],
    }
