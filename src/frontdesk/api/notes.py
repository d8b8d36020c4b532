"""/:pid/requests/:rid/notes: agents' private notes on a conversation (Tiledesk's paths)."""

from __future__ import annotations

from frontdesk.actions import notes
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router

router = Router("requests")


@router.route("POST", "/{pid}/requests/{rid}/notes",
              summary="Add a private note (agents only; @name notifies that agent)",
              body=s.NoteCreate, response=s.RequestPublic)
async def add_note(call: Call) -> s.RequestPublic:
    b: s.NoteCreate = call.body
    return await notes.check_add_note(call.services, call.access, call.params["rid"], b.text)


@router.route("DELETE", "/{pid}/requests/{rid}/notes/{nid}",
              summary="Delete a private note (its author or an admin)", response=s.RequestPublic)
async def delete_note(call: Call) -> s.RequestPublic:
    return await notes.check_delete_note(call.services, call.access, call.params["rid"],
                                         call.params["nid"])
