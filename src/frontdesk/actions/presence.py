"""Presence, the server's side of availability: an agent whose dashboards have all been
closed for the grace period is made unavailable in each project where it was available, and
made available again when it returns — in those projects only, so an agent who had made
itself unavailable stays so. Each change is audited (actor ``system``) and announced like a
change by hand; a return routes the queue (``actions.queue``).
"""

from __future__ import annotations

from frontdesk.actions import audit
from frontdesk.actions.queue import route_queue
from frontdesk.actions.team import notify_member_changed
from frontdesk.services import Services
from frontdesk.storage import project_users


async def do_mark_away(services: Services, user_id: str) -> list[str]:
    """Make the agent unavailable where it is available; the project ids changed."""
    return await _move(services, user_id, away=True)


async def do_mark_back(services: Services, user_id: str) -> list[str]:
    """Make the agent available again where the server had made it unavailable, and route
    those projects' queues; the project ids changed."""
    if not await project_users.list_agent_memberships(services.db, user_id, away=True):
        return []  # the common case, read without a write transaction
    changed = await _move(services, user_id, away=False)
    for project_id in changed:
        await route_queue(services, project_id)
    return changed


async def _move(services: Services, user_id: str, *, away: bool) -> list[str]:
    """Away: the memberships where the agent is available become unavailable and held away.
    Back (``away=False``): those held away become available again. One transaction, each
    change audited and announced; the project ids changed."""
    changed: list[str] = []
    async with services.db.transaction() as tx:
        held = {"available": True} if away else {"away": True}
        for member in await project_users.list_agent_memberships(
            tx, user_id, lock=True, **held
        ):
            await project_users.update_project_user(
                tx, member["id"], now=services.now_ms(), user_available=not away,
                presence_away=away,
            )
            services.project_changed_on_commit(tx, member["project_id"], user_id)
            await audit.record(services, tx, member["project_id"], audit.AuditEvent(
                "presence.away" if away else "presence.back", actor="system", subject=user_id,
                details={"reason": "disconnected" if away else "reconnected"},
            ))
            await notify_member_changed(services, tx, member["project_id"], member["id"])
            changed.append(member["project_id"])
    return changed
