"""A contact's widget sessions: list them, and sign the person out of one or all of them.

Revocation is effective at once: REST calls check the session row on every request, and a
SessionRevoked event goes out after the commit so open WebSockets close.
"""

from __future__ import annotations

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess
from frontdesk.actions.leads import access_lead
from frontdesk.errors import NotFound
from frontdesk.models.sessions import SessionPublic, SessionsRevokedPublic, present_session
from frontdesk.realtime.events import SessionRevoked
from frontdesk.services import Services
from frontdesk.storage import sessions


async def list_sessions(
    services: Services, access: ProjectAccess, lead_id: str
) -> list[SessionPublic]:
    """The contact's live sessions, oldest first."""
    lead = await access_lead(services, access, lead_id)
    rows = await sessions.live_sessions_of(
        services.db, access.project["id"], lead["lead_id"], services.now_ms()
    )
    return [present_session(r) for r in rows]


async def do_revoke_sessions(
    services: Services, access: ProjectAccess, lead_id: str, *, jti: str | None
) -> SessionsRevokedPublic:
    """Revoke one live session (``jti``) of the contact, or all of them (None).

    Raises NotFound(session_not_found) when ``jti`` is not a live session of this contact.
    """
    project_id = access.project["id"]
    now = services.now_ms()
    async with services.db.transaction() as tx:
        lead = await access_lead(services, access, lead_id, tx=tx)
        live = await sessions.live_sessions_of(tx, project_id, lead["lead_id"], now)
        targets = [s["jti"] for s in live if jti is None or s["jti"] == jti]
        if jti is not None and not targets:
            raise NotFound(f"no live session {jti!r} of this contact", code="session_not_found")
        for target in targets:
            await sessions.revoke_session(tx, target, now=now, reason="revoked_by_agent")
            services.publish_on_commit(tx, SessionRevoked(project_id=project_id, jti=target))
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "session.revoked", actor=access.agent.user_id, subject=lead["lead_id"],
            details={"sessions": targets, "all": jti is None},
        ))
    return {"success": True, "revoked": targets}
