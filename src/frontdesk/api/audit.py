"""/:pid/audit: the project's identity audit log (admins)."""

from __future__ import annotations

from frontdesk.actions import audit
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router

router = Router("audit")


@router.route("GET", "/{pid}/audit",
              summary="Identity events, newest first (filters: type, subject; cursor: before)",
              query=s.AuditQuery, response=s.AuditPublic, min_role="admin")
async def list_audit(call: Call) -> s.AuditPublic:
    q: s.AuditQuery = call.query
    return await audit.list_audit(call.services, call.access, type=q.type, subject=q.subject,
                                  before=q.before, limit=q.limit)
