"""/:pid/project_users/me/notifications: the calling agent's notification choices."""

from __future__ import annotations

from frontdesk.actions import notifications
from frontdesk.api.routing import Call, Router
from frontdesk.api.schemas import Body
from frontdesk.models.notifications import NotificationPrefsPublic

router = Router("team")


class NotificationPrefsUpdate(Body):
    desktop: bool | None = None
    sound: bool | None = None
    title: bool | None = None


@router.route("GET", "/{pid}/project_users/me/notifications",
              summary="Your notification choices in this project",
              response=NotificationPrefsPublic)
async def get_notification_prefs(call: Call) -> NotificationPrefsPublic:
    return await notifications.get_prefs(call.services, call.access)


@router.route("PUT", "/{pid}/project_users/me/notifications",
              summary="Turn your desktop notifications, sound or title count on or off",
              body=NotificationPrefsUpdate, response=NotificationPrefsPublic)
async def update_notification_prefs(call: Call) -> NotificationPrefsPublic:
    b: NotificationPrefsUpdate = call.body
    return await notifications.do_update_prefs(
        call.services, call.access, b.model_dump(exclude_none=True)
    )
