"""/:pid/project_users: the team, availability, roles (invitations: api/invitations.py)."""

from __future__ import annotations

from typing import Any

from frontdesk.actions import team
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router

router = Router("team")


@router.route("GET", "/{pid}/project_users", summary="The project's agents",
              response=list[s.ProjectUserPublic])
async def list_team(call: Call) -> list[s.ProjectUserPublic]:
    return await team.list_team(call.services, call.access)


@router.route("GET", "/{pid}/project_users/users/{uid}",
              summary="A user's membership (agents: anyone; visitors: themselves)",
              response=list[s.ProjectUserPublic], allowed=("agent", "visitor"))
async def get_project_user_by_user(call: Call) -> list[s.ProjectUserPublic]:
    return await team.access_project_user_by_user(call.services, call.access, call.params["uid"])


@router.route("PUT", "/{pid}/project_users", summary="Update your own membership (availability)",
              body=s.ProjectUserUpdate, response=s.ProjectUserPublic)
async def update_own_membership(call: Call) -> s.ProjectUserPublic:
    b: s.ProjectUserUpdate = call.body
    changes = b.model_dump(exclude_none=True, exclude={"role"})
    return await team.do_update_own_membership(call.services, call.access, changes)


@router.route("PUT", "/{pid}/project_users/{puid}",
              summary="Update a member (admins: role and anyone; agents: themselves)",
              body=s.ProjectUserUpdate, response=s.ProjectUserPublic)
async def update_project_user(call: Call) -> s.ProjectUserPublic:
    b: s.ProjectUserUpdate = call.body
    return await team.check_update_project_user(
        call.services, call.access, call.params["puid"], b.model_dump(exclude_none=True)
    )


@router.route("DELETE", "/{pid}/project_users/{puid}", summary="Remove a member (admins)",
              response=s.SuccessPublic, min_role="admin")
async def remove_project_user(call: Call) -> dict[str, Any]:
    return await team.check_remove_member(call.services, call.access, call.params["puid"])
