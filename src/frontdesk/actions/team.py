"""The team: agents' memberships, roles and availability (invitations: actions/invitations)."""

from __future__ import annotations

from typing import Any

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess
from frontdesk.actions.queue import route_queue
from frontdesk.auth.permissions import can_manage_member
from frontdesk.auth.principals import Agent
from frontdesk.errors import Conflict, Forbidden, NotFound
from frontdesk.models.project_users import (
    AvailableAgentPublic,
    ProjectUserPublic,
    present_project_user,
)
from frontdesk.realtime.events import MembershipRevoked, ProjectUserChanged
from frontdesk.services import Services
from frontdesk.storage import project_users, projects, users
from frontdesk.storage.database import Queries, Transaction
from frontdesk.storage.project_users import ProjectUserRecord


async def list_team(services: Services, access: ProjectAccess) -> list[ProjectUserPublic]:
    rows = await project_users.list_agents(services.db, access.project["id"])
    return [present_project_user(r) for r in rows]


async def list_available(services: Services, project_id: str) -> list[AvailableAgentPublic]:
    rows = await project_users.list_agents(services.db, project_id, available_only=True)
    return [
        {
            "id": r["user_id"],
            "firstname": r["user_firstname"],
            "lastname": r["user_lastname"],
            "fullName": f"{r['user_firstname']} {r['user_lastname']}".strip(),
        }
        for r in rows
    ]


async def access_project_user_by_user(
    services: Services, access: ProjectAccess, user_id: str
) -> list[ProjectUserPublic]:
    """Tiledesk's ``GET /:pid/project_users/users/:uid``: a one-element array.

    Agents may look up anyone of the project; a visitor only itself.
    """
    if not isinstance(access.principal, Agent) and access.principal.visitor_id != user_id:
        raise Forbidden("visitors may only look themselves up", code="not_yourself")
    row = await project_users.get_membership(services.db, access.project["id"], user_id)
    if row is None:
        raise NotFound(f"no user {user_id!r} in this project", code="project_user_not_found")
    return [await _present(services, row)]


async def _present(services: Services, row: ProjectUserRecord) -> ProjectUserPublic:
    user = await users.get_user(services.db, row["user_id"]) if row["role"] in (
        "owner", "admin", "agent"
    ) else None
    return present_project_user(row, user)


async def do_update_own_membership(
    services: Services, access: ProjectAccess, changes: dict[str, Any]
) -> ProjectUserPublic:
    assert access.membership is not None
    async with services.db.transaction() as tx:
        own = await _team_member(tx, access, access.membership["id"], lock=True)
        body = await _update(services, tx, access, own, changes)
    await _route_if_freed(services, access.project["id"], changes)
    return body


async def check_update_project_user(
    services: Services, access: ProjectAccess, project_user_id: str, changes: dict[str, Any]
) -> ProjectUserPublic:
    """Admins change roles and anyone's availability; agents only their own availability."""
    new_role = changes.get("role")
    async with services.db.transaction() as tx:
        if new_role is not None:
            await _take_turns_on_roles(tx, access)
        target = await _team_member(tx, access, project_user_id, lock=True)
        is_self = access.membership is not None and target["id"] == access.membership["id"]
        if (new_role is not None or not is_self) and not can_manage_member(
            access.role, target["role"], new_role
        ):
            raise Forbidden("you may not change this member", code="insufficient_role")
        if new_role is not None and target["role"] == "owner" and new_role != "owner" and (
            await project_users.count_owners(tx, access.project["id"]) <= 1
        ):
            raise Conflict("a project keeps at least one owner", code="last_owner")
        if new_role is not None and new_role != target["role"]:
            await audit.record_agent_action(
                services, tx, access, "member.role_changed", subject=target["user_id"],
                details={"from": target["role"], "to": new_role},
            )
        body = await _update(services, tx, access, target, changes)
    await _route_if_freed(services, access.project["id"], changes)
    return body


async def _route_if_freed(services: Services, project_id: str, changes: dict[str, Any]) -> None:
    """An agent made available, or given another maximum, may take waiting conversations."""
    if changes.get("user_available") or changes.get("max_assigned_chat") is not None:
        await route_queue(services, project_id)


async def _update(
    services: Services,
    tx: Transaction,
    access: ProjectAccess,
    target: ProjectUserRecord,
    changes: dict[str, Any],
) -> ProjectUserPublic:
    """Apply ``changes`` to ``target``, read locked within ``tx``, and announce it."""
    await project_users.update_project_user(
        tx,
        target["id"],
        now=services.now_ms(),
        role=changes.get("role"),
        user_available=changes.get("user_available"),
        max_assigned_chat=changes.get("max_assigned_chat"),
        # Set by hand: the server no longer holds the agent away (actions/presence).
        presence_away=False if changes.get("user_available") is not None else None,
        attributes=(
            {**target["attributes"], **changes["attributes"]}
            if changes.get("attributes") is not None
            else None
        ),
    )
    services.project_changed_on_commit(tx, access.project["id"], target["user_id"])
    return await notify_member_changed(services, tx, access.project["id"], target["id"])


async def notify_member_changed(
    services: Services, tx: Transaction, project_id: str, project_user_id: str
) -> ProjectUserPublic:
    """The member as the API shows it, announced to the project's sockets after the commit."""
    row = await project_users.get_project_user(tx, project_id, project_user_id)
    assert row is not None
    user = await users.get_user(tx, row["user_id"])
    body = present_project_user(row, user)
    services.publish_on_commit(
        tx,
        ProjectUserChanged.model_construct(
            project_id=project_id, project_user_id=row["id"], project_user=body
        ),
    )
    return body


async def check_remove_member(
    services: Services, access: ProjectAccess, project_user_id: str
) -> dict[str, Any]:
    """Remove a member; after the commit its open sockets stop hearing this project.

    Raises Forbidden(insufficient_role), Conflict(last_owner), NotFound(project_user_not_found).
    A role change needs no such event: every agent role may subscribe to every topic.
    """
    async with services.db.transaction() as tx:
        await _take_turns_on_roles(tx, access)
        target = await _team_member(tx, access, project_user_id, lock=True)
        if not can_manage_member(access.role, target["role"], None):
            raise Forbidden("you may not remove this member", code="insufficient_role")
        if target["role"] == "owner" and await project_users.count_owners(
            tx, access.project["id"]
        ) <= 1:
            raise Conflict("a project keeps at least one owner", code="last_owner")
        await project_users.delete_project_user(tx, target["id"])
        services.project_changed_on_commit(tx, access.project["id"], target["user_id"])
        await audit.record_agent_action(
            services, tx, access, "member.removed", subject=target["user_id"],
            details={"role": target["role"]},
        )
        services.publish_on_commit(
            tx, MembershipRevoked(project_id=access.project["id"], user_id=target["user_id"])
        )
    return {"success": True, "removed": target["id"]}


async def _take_turns_on_roles(tx: Transaction, access: ProjectAccess) -> None:
    """Lock the project row: role changes and removals of one project then run one at a time,
    so two of them cannot each count another owner left. One lock, taken first, cannot
    deadlock."""
    await projects.get_project(tx, access.project["id"], lock=True)


async def _team_member(
    q: Queries, access: ProjectAccess, project_user_id: str, *, lock: bool = False
) -> ProjectUserRecord:
    target = await project_users.get_project_user(
        q, access.project["id"], project_user_id, lock=lock
    )
    if target is None or target["role"] not in ("owner", "admin", "agent"):
        raise NotFound(f"no team member {project_user_id!r}", code="project_user_not_found")
    return target
