"""The calling agent's notification choices (desktop, sound, title count) in a project."""

from __future__ import annotations

from frontdesk.actions.access import ProjectAccess
from frontdesk.models.notifications import KINDS, NotificationPrefsPublic, present_prefs
from frontdesk.services import Services
from frontdesk.storage import project_users


async def get_prefs(services: Services, access: ProjectAccess) -> NotificationPrefsPublic:
    assert access.membership is not None
    return present_prefs(access.membership["notifications"])


async def do_update_prefs(
    services: Services, access: ProjectAccess, changes: dict[str, bool]
) -> NotificationPrefsPublic:
    """Merge ``changes`` (kinds of ``KINDS`` to turn on or off) into the agent's choices."""
    assert access.membership is not None
    async with services.db.transaction() as tx:
        own = await project_users.get_project_user(
            tx, access.project["id"], access.membership["id"], lock=True
        )
        assert own is not None  # the route table admitted this member
        merged = {**present_prefs(own["notifications"]), **{
            k: v for k, v in changes.items() if k in KINDS
        }}
        await project_users.update_project_user(
            tx, own["id"], now=services.now_ms(), notifications=merged
        )
        services.project_changed_on_commit(tx, own["project_id"], own["user_id"])
    return present_prefs(merged)
