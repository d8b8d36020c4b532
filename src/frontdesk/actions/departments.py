"""Departments: routing groups; every project has exactly one default department."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontdesk.actions.access import ProjectAccess
from frontdesk.actions.projects import validate_operating_hours
from frontdesk.errors import Conflict, NotFound, ValidationFailed
from frontdesk.ids import is_object_id
from frontdesk.models.departments import DepartmentPublic, present_department
from frontdesk.services import Services
from frontdesk.storage import departments, project_users
from frontdesk.storage.database import Queries, Transaction
from frontdesk.storage.departments import DepartmentRecord


async def access_department(
    services: Services,
    project_id: str,
    department_id: str,
    *,
    tx: Queries | None = None,
    lock: bool = False,
) -> DepartmentRecord:
    """The department; read within ``tx`` when a command decides on it, locked with ``lock``.
    Raises NotFound(department_not_found)."""
    row = (
        await departments.get_department(tx or services.db, project_id, department_id, lock=lock)
        if is_object_id(department_id)
        else None
    )
    if row is None:
        raise NotFound(f"no department {department_id!r}", code="department_not_found")
    return row


async def default_department(
    services: Services, project_id: str, q: Queries | None = None
) -> DepartmentRecord | None:
    """The project's default department, from the project cache when it holds it (every
    write of a department evicts it, through ``Services.project_changed_on_commit``), else
    read with ``q``: a caller's transaction must read with it (on PostgreSQL, transactions
    waiting for a second pooled connection could hold every one), and must not have
    written departments (what it read is cached)."""
    return await services.project_cache.read_default_department(
        project_id, lambda: departments.get_default_department(q or services.db, project_id))


async def list_departments(services: Services, project_id: str) -> list[DepartmentPublic]:
    rows = await departments.list_departments(services.db, project_id)
    return [present_department(r) for r in rows]


async def _check_agents(q: Queries, project_id: str, agents: list[str]) -> None:
    team = {a["user_id"] for a in await project_users.list_agents(q, project_id)}
    unknown = [a for a in agents if a not in team]
    if unknown:
        raise ValidationFailed(
            "these agents are not in the project: " + ", ".join(unknown),
            code="unknown_agent",
            details=[{"loc": ["agents"], "msg": f"not a member: {a}"} for a in unknown],
        )


@dataclass(frozen=True)
class DepartmentTrust:
    """A department's trust rules: its minimum tier, its own hours and off-hours message
    (None: the project's). ``keep`` names the fields an update leaves as they are."""

    min_tier: str | None = None
    operating_hours: dict[str, Any] | None = None
    off_hours_message: str | None = None
    keep: frozenset[str] = frozenset()

    def applied_to(self, row: DepartmentRecord) -> DepartmentRecord:
        """``row`` with these rules; raises ValidationFailed for invalid hours."""
        if self.operating_hours is not None:
            validate_operating_hours(self.operating_hours)
        return {
            **row,
            "min_tier": self.min_tier or row["min_tier"],
            "operating_hours": row["operating_hours"] if "operating_hours" in self.keep
            else self.operating_hours,
            "off_hours_message": row["off_hours_message"] if "off_hours_message" in self.keep
            else self.off_hours_message,
        }


async def _write_trust(services: Services, tx: Transaction, row: DepartmentRecord) -> None:
    await departments.update_department_trust(
        tx, row["id"], min_tier=row["min_tier"], operating_hours=row["operating_hours"],
        off_hours_message=row["off_hours_message"],
    )
    services.project_changed_on_commit(tx, row["project_id"])


async def check_create_department(
    services: Services,
    access: ProjectAccess,
    *,
    name: str,
    routing: str | None,
    agents: list[str],
    trust: DepartmentTrust | None = None,
) -> DepartmentPublic:
    project_id = access.project["id"]
    now = services.now_ms()
    row: DepartmentRecord = {
        "id": services.ids.object_id(), "project_id": project_id, "name": name,
        "is_default": 0, "routing": routing, "agents": agents, "created_at": now,
        "updated_at": now, "min_tier": "anonymous", "operating_hours": None,
        "off_hours_message": None,
    }
    row = (trust or DepartmentTrust()).applied_to(row)
    async with services.db.transaction() as tx:
        await _check_agents(tx, project_id, agents)
        await departments.insert_department(
            tx,
            id=row["id"],
            project_id=project_id,
            name=name,
            is_default=False,
            routing=routing,
            agents=agents,
            now=now,
        )
        services.project_changed_on_commit(tx, project_id)
        await _write_trust(services, tx, row)
    return present_department(row)


async def check_update_department(
    services: Services,
    access: ProjectAccess,
    department_id: str,
    *,
    name: str | None,
    routing: str | None,
    agents: list[str] | None,
    trust: DepartmentTrust | None = None,
) -> DepartmentPublic:
    project_id = access.project["id"]
    async with services.db.transaction() as tx:
        row = await access_department(services, project_id, department_id, tx=tx, lock=True)
        if agents is not None:
            await _check_agents(tx, project_id, agents)
        # Locked since it was read: the department is now that row with what is written here.
        updated: DepartmentRecord = {
            **row,
            "name": name or row["name"],
            "routing": routing or row["routing"],
            "agents": row["agents"] if agents is None else agents,
            "updated_at": services.now_ms(),
        }
        if trust is not None:
            updated = trust.applied_to(updated)
            await _write_trust(services, tx, updated)
            if updated["min_tier"] != row["min_tier"]:
                # Imported here: verification routes conversations, which read departments.
                from frontdesk.actions.verification import do_release_held

                await do_release_held(services, tx, row["id"], project_id, updated["min_tier"])
        await departments.update_department(
            tx,
            row["id"],
            name=updated["name"],
            routing=updated["routing"],
            agents=updated["agents"],
            now=updated["updated_at"],
        )
        services.project_changed_on_commit(tx, project_id)
    return present_department(updated)


async def check_delete_department(
    services: Services, access: ProjectAccess, department_id: str
) -> DepartmentPublic:
    async with services.db.transaction() as tx:
        row = await access_department(
            services, access.project["id"], department_id, tx=tx, lock=True
        )
        if row["is_default"]:
            raise Conflict("the default department cannot be deleted", code="default_department")
        await departments.delete_department(tx, row["id"])
        services.project_changed_on_commit(tx, access.project["id"])
    return present_department(row)
