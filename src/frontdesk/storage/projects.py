"""Projects (tenants) and their settings document."""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import Queries, row_lock
from frontdesk.storage.rows import encode, fetch_record, fetch_records


class ProjectRecord(TypedDict):
    """A row of ``projects``; ``settings`` decoded."""

    id: str
    name: str
    settings: dict[str, Any]
    created_by: str | None
    created_at: int
    updated_at: int


class ProjectMembershipRecord(ProjectRecord):
    """A project with the membership of the agent it was listed for."""

    member_role: str
    project_user_id: str
    member_available: int

_JSON = ("settings",)
_PROJECT = "SELECT * FROM projects p WHERE id = $1"


async def insert_project(
    q: Queries, *, id: str, name: str, settings: dict[str, Any], created_by: str | None, now: int
) -> None:
    await q.execute(
        "INSERT INTO projects (id, name, settings, created_by, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $5)",
        id,
        name,
        encode(settings),
        created_by,
        now,
    )


async def get_project(q: Queries, project_id: str, *, lock: bool = False) -> ProjectRecord | None:
    """The project; with ``lock``, locked until the transaction ends (its settings, and the
    commands that must not run side by side in one project: key rotation)."""
    return await fetch_record(
        q, ProjectRecord, _PROJECT + row_lock(q, "p", lock), project_id, json=_JSON
    )


async def update_project(
    q: Queries, project_id: str, *, name: str, settings: dict[str, Any], now: int
) -> None:
    await q.execute(
        "UPDATE projects SET name = $2, settings = $3, updated_at = $4 WHERE id = $1",
        project_id,
        name,
        encode(settings),
        now,
    )


async def projects_of_user(q: Queries, user_id: str) -> list[ProjectMembershipRecord]:
    return await fetch_records(
        q, ProjectMembershipRecord,
        "SELECT p.*, pu.role AS member_role, pu.id AS project_user_id,"
        " pu.user_available AS member_available"
        " FROM project_users pu JOIN projects p ON p.id = pu.project_id"
        " WHERE pu.user_id = $1 AND pu.role IN ('owner', 'admin', 'agent')"
        " ORDER BY p.created_at",
        user_id,
        json=_JSON,
    )
