"""Events of the identity audit log."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, closed
from frontdesk.storage.audit import AuditEventRecord

SUSPICIOUS_BURST = "suspicious_burst"


@closed
class AuditEventPublic(TypedDict):
    _id: Annotated[str, Field(description="Event id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    type: Annotated[str, Field(description="What happened, e.g. signin.failed, key.rotated")]
    at: Annotated[str, Field(description="ISO 8601 UTC, its first occurrence")]
    actor: Annotated[str | None, Field(description="Who did it")]
    subject: Annotated[str | None, Field(description="Whom or what it concerns")]
    kid: Annotated[str | None, Field(description="The key concerned")]
    code: Annotated[str | None, Field(description="A refusal's error code")]
    ip: Annotated[str | None, Field(description="Address of the caller")]
    flags: Annotated[list[str], Field(description="suspicious_burst: during a burst")]
    occurrences: Annotated[int, Field(description="Events this row summarises")]
    lastAt: Annotated[str, Field(description="ISO 8601 UTC, its last occurrence")]
    details: Annotated[dict[str, Any], Field(description="What else it records, by type")]


@closed
class AuditPublic(TypedDict):
    """A page of the audit log."""

    events: Annotated[list[AuditEventPublic], Field(description="Newest first")]
    suspiciousBurst: Annotated[
        bool, Field(description="Failed sign-ins are above the burst threshold now")
    ]
    next: Annotated[
        str | None, Field(description="Pass as before= for the next page; null on the last")
    ]


def present_event(row: AuditEventRecord) -> AuditEventPublic:
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
        "occurrences": row["occurrences"],
        "lastAt": iso(row["last_at"]),
        "details": row["details"],
    }
