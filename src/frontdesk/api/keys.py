"""/:pid/keys: the project's visitor-token secrets (admins)."""

from __future__ import annotations

from typing import Any

from frontdesk.actions import keys
from frontdesk.actions.access import access_project
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router

router = Router("keys")


@router.route("POST", "/{pid}/keys/generate",
              summary="Generate (rotate) the project secret; shown only in this answer",
              response=s.GeneratedKeyPublic, min_role="admin")
async def generate_key(call: Call) -> dict[str, Any]:
    access = await access_project(call.services, call.principal, call.params["pid"],
                                  min_role="admin")
    return await keys.do_generate_key(call.services, access)


@router.route("GET", "/{pid}/keys", summary="The project's keys, without their secrets",
              response=list[s.KeyPublic], min_role="admin")
async def list_keys(call: Call) -> list[dict[str, Any]]:
    access = await access_project(call.services, call.principal, call.params["pid"],
                                  min_role="admin")
    return await keys.do_list_keys(call.services, access)
