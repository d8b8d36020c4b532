"""Departments: routing groups of agents; every project has one default department."""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import Queries, row_lock
from frontdesk.storage.rows import encode, fetch_record, fetch_records


class DepartmentRecord(TypedDict):
    """A row of ``departments``; ``agents`` decoded."""

    id: str
    project_id: str
    name: str
    is_default: int
    routing: str
    agents: list[str]
    created_at: int
    updated_at: int
    min_tier: str  # anonymous, email_verified or authenticated (auth.tiers)
    operating_hours: dict[str, Any] | None  # None: the project's hours apply
    off_hours_message: str | None  # None: the project's message

_JSON = ("agents", "operating_hours")
_DEPARTMENT = "SELECT * FROM departments d WHERE project_id = $1 AND id = $2"


async def insert_department(
    q: Queries,
    *,
    id: str,
    project_id: str,
    name: str,
    is_default: bool,
    routing: str,
    agents: list[str],
    now: int,
) -> None:
    await q.execute(
        "INSERT INTO departments (id, project_id, name, is_default, routing, agents, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        id,
        project_id,
        name,
        int(is_default),
        routing,
        encode(agents),
        now,
    )


async def list_departments(q: Queries, project_id: str) -> list[DepartmentRecord]:
    return await fetch_records(
        q, DepartmentRecord,
        "SELECT * FROM departments WHERE project_id = $1 ORDER BY is_default DESC, created_at",
        project_id,
        json=_JSON,
    )


async def get_department(
    q: Queries, project_id: str, department_id: str, *, lock: bool = False
) -> DepartmentRecord | None:
    return await fetch_record(
        q, DepartmentRecord, _DEPARTMENT + row_lock(q, "d", lock), project_id, department_id,
        json=_JSON,
    )


async def get_default_department(q: Queries, project_id: str) -> DepartmentRecord | None:
    return await fetch_record(
        q, DepartmentRecord,
        "SELECT * FROM departments WHERE project_id = $1 AND is_default = 1",
        project_id,
        json=_JSON,
    )


async def update_department(
    q: Queries, department_id: str, *, name: str, routing: str, agents: list[str], now: int
) -> None:
    await q.execute(
        "UPDATE departments SET name = $2, routing = $3, agents = $4, updated_at = $5"
        " WHERE id = $1",
        department_id,
        name,
        routing,
        encode(agents),
        now,
    )


async def update_department_trust(
    q: Queries,
    department_id: str,
    *,
    min_tier: str,
    operating_hours: dict[str, Any] | None,
    off_hours_message: str | None,
) -> None:
    await q.execute(
        "UPDATE departments SET min_tier = $2, operating_hours = $3, off_hours_message = $4"
        " WHERE id = $1",
        department_id,
        min_tier,
        None if operating_hours is None else encode(operating_hours),
        off_hours_message,
    )


async def delete_department(q: Queries, department_id: str) -> None:
    await q.execute("DELETE FROM departments WHERE id = $1", department_id)
