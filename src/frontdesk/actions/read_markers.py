"""Read markers: how far each agent has read each conversation, kept on the server so that
unread counts are the same in every browser of the agent."""

from __future__ import annotations

from frontdesk.actions.access import ProjectAccess, access_request
from frontdesk.clock import iso
from frontdesk.errors import ValidationFailed
from frontdesk.models.read_markers import ReadMarkerPublic
from frontdesk.realtime.events import ReadMarkerChanged
from frontdesk.services import Services
from frontdesk.storage import messages, read_markers
from frontdesk.storage.database import Queries


async def check_mark_read(
    services: Services, access: ProjectAccess, request_id: str, message_id: str | None
) -> ReadMarkerPublic:
    """Mark the conversation read by the calling agent up to ``message_id`` (None: its newest
    message now). A marker only moves forward: marking an older message changes nothing.

    Raises NotFound(request_not_found), ValidationFailed(unknown_message) for a message of
    another conversation. After the commit the agent's own sockets hear the new marker.
    """
    agent = access.agent
    assert access.membership is not None
    project_id = access.project["id"]
    async with services.db.transaction() as tx:
        await access_request(services, access, request_id, tx=tx)
        if message_id is None:
            newest = await messages.list_messages(tx, request_id, limit=1, latest=True)
            target = newest[0] if newest else None
        else:
            target = await messages.get_message(tx, request_id, message_id)
            if target is None:
                raise ValidationFailed(
                    f"no message {message_id!r} in this conversation", code="unknown_message"
                )
        moved = target is not None and await read_markers.advance_marker(
            tx,
            project_id=project_id,
            request_id=request_id,
            user_id=agent.user_id,
            message_id=target["id"],
            message_at=target["created_at"],
            now=services.now_ms(),
        )
        marker = await _present(tx, request_id, agent.user_id)
        if moved:
            services.publish_on_commit(
                tx,
                ReadMarkerChanged.model_construct(
                    project_id=project_id,
                    project_user_id=access.membership["id"],
                    user_id=agent.user_id,
                    marker=marker,
                ),
            )
    return marker


async def get_marker(
    services: Services, access: ProjectAccess, request_id: str
) -> ReadMarkerPublic:
    await access_request(services, access, request_id)
    return await _present(services.db, request_id, access.agent.user_id)


async def _present(
    q: Queries, request_id: str, user_id: str
) -> ReadMarkerPublic:
    row = await read_markers.get_marker(q, request_id, user_id)
    return {
        "request_id": request_id,
        "message_id": row["message_id"] if row else None,
        "readAt": iso(row["updated_at"]) if row else None,
        "unread": await read_markers.count_unread(q, request_id, user_id),
    }
