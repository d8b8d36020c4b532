"""/:pid/tags: the project's tag library (Tiledesk's tag routes)."""

from __future__ import annotations

from frontdesk.actions import tags
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router
from frontdesk.models.tags import present_tag

router = Router("tags")


@router.route("GET", "/{pid}/tags", summary="The tag library, by name", query=s.TagsQuery,
              response=list[s.TagPublic])
async def list_tags(call: Call) -> list[s.TagPublic]:
    q: s.TagsQuery = call.query
    return await tags.list_tags(call.services, call.access, page=q.page, limit=q.limit)


@router.route("POST", "/{pid}/tags",
              summary="Add a tag to the library (an existing name answers the existing tag)",
              body=s.TagCreate, response=s.TagPublic)
async def create_tag(call: Call) -> s.TagPublic:
    b: s.TagCreate = call.body
    return await tags.check_create_tag(call.services, call.access, tag=b.tag, color=b.color)


@router.route("GET", "/{pid}/tags/{tid}", summary="A tag of the library", response=s.TagPublic)
async def get_tag(call: Call) -> s.TagPublic:
    row = await tags.access_tag(call.services, call.access.project["id"], call.params["tid"])
    return present_tag(row)


@router.route("PUT", "/{pid}/tags/{tid}", summary="Rename or recolour a tag (admins)",
              body=s.TagUpdate, response=s.TagPublic, min_role="admin")
async def update_tag(call: Call) -> s.TagPublic:
    b: s.TagUpdate = call.body
    return await tags.check_update_tag(call.services, call.access, call.params["tid"],
                                       tag=b.tag, color=b.color)


@router.route("DELETE", "/{pid}/tags/{tid}",
              summary="Delete a tag from the library (admins; tagged conversations keep it)",
              response=s.TagPublic, min_role="admin")
async def delete_tag(call: Call) -> s.TagPublic:
    return await tags.check_delete_tag(call.services, call.access, call.params["tid"])
