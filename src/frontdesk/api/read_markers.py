"""/:pid/requests/:rid/read: the calling agent's read marker in a conversation."""

from __future__ import annotations

from frontdesk.actions import read_markers
from frontdesk.api.routing import Call, Router
from frontdesk.api.schemas import Body, ObjectId
from frontdesk.models.read_markers import ReadMarkerPublic

router = Router("requests")


class ReadMarkerUpdate(Body):
    message_id: ObjectId | None = None  # None: up to the newest message


@router.route("GET", "/{pid}/requests/{rid}/read",
              summary="How far you have read a conversation, and what is left unread",
              response=ReadMarkerPublic)
async def get_read_marker(call: Call) -> ReadMarkerPublic:
    return await read_markers.get_marker(call.services, call.access, call.params["rid"])


@router.route("PUT", "/{pid}/requests/{rid}/read",
              summary="Mark a conversation read up to a message (default: its newest)",
              body=ReadMarkerUpdate, response=ReadMarkerPublic)
async def mark_read(call: Call) -> ReadMarkerPublic:
    b: ReadMarkerUpdate = call.body
    return await read_markers.check_mark_read(
        call.services, call.access, call.params["rid"], b.message_id
    )
