"""/:pid/canned: canned responses (Tiledesk's shape: title, text, shared)."""

from __future__ import annotations

from frontdesk.actions import canned
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router
from frontdesk.models.canned import present_canned

router = Router("canned")


@router.route("GET", "/{pid}/canned", summary="The caller's canned responses and the shared ones",
              response=list[s.CannedPublic])
async def list_canned(call: Call) -> list[s.CannedPublic]:
    return await canned.list_canned(call.services, call.access)


@router.route("POST", "/{pid}/canned",
              summary="Create a canned response (shared: admins only)", body=s.CannedCreate,
              response=s.CannedPublic)
async def create_canned(call: Call) -> s.CannedPublic:
    b: s.CannedCreate = call.body
    return await canned.check_create_canned(call.services, call.access, title=b.title,
                                            text=b.text, shared=b.shared)


@router.route("GET", "/{pid}/canned/{cid}", summary="A canned response (shared, or your own)",
              response=s.CannedPublic)
async def get_canned(call: Call) -> s.CannedPublic:
    return present_canned(await canned.access_canned(call.services, call.access,
                                                     call.params["cid"]))


@router.route("PUT", "/{pid}/canned/{cid}",
              summary="Change your canned response (a shared one: admins)",
              body=s.CannedUpdate, response=s.CannedPublic)
async def update_canned(call: Call) -> s.CannedPublic:
    b: s.CannedUpdate = call.body
    return await canned.check_update_canned(call.services, call.access, call.params["cid"],
                                            title=b.title, text=b.text, shared=b.shared)


@router.route("DELETE", "/{pid}/canned/{cid}",
              summary="Delete your canned response (a shared one: admins)",
              response=s.CannedPublic)
async def delete_canned(call: Call) -> s.CannedPublic:
    return await canned.check_delete_canned(call.services, call.access, call.params["cid"])


@router.route("GET", "/{pid}/canned/{cid}/fill",
              summary="Its text with the placeholders filled for one conversation",
              query=s.CannedFillQuery, response=s.CannedFilledPublic)
async def fill_canned(call: Call) -> s.CannedFilledPublic:
    q: s.CannedFillQuery = call.query
    return await canned.fill_canned(call.services, call.access, call.params["cid"], q.request_id)
