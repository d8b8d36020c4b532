"""Departments: where a new conversation is routed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, Time, closed
from frontdesk.storage.departments import DepartmentRecord


@closed
class DepartmentPublic(TypedDict):
    _id: Annotated[str, Field(description="Department id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    name: Annotated[str, Field(description="Its name, as visitors may see it")]
    default: Annotated[bool, Field(description="The project's default department")]
    routing: Annotated[str, Field(description="assigned, pooled or fixed")]
    agents: Annotated[list[str], Field(description="Account ids of its agents")]
    status: Annotated[Literal[1], Field(description="Always 1 (active), as Tiledesk says")]
    createdAt: Time
    updatedAt: Time
    minTier: Annotated[str, Field(
        description="The least trust tier a visitor needs before its conversation reaches this"
        " department's agents: anonymous, email_verified or authenticated"
    )]
    operatingHours: Annotated[dict[str, Any] | None, Field(
        description="Its own opening hours (the project's shape), or null: the project's apply"
    )]
    offHoursMessage: Annotated[str | None, Field(
        description="Its own off-hours message, or null: the project's"
    )]


def present_department(row: DepartmentRecord) -> DepartmentPublic:
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "name": row["name"],
        "default": bool(row["is_default"]),
        "routing": row["routing"],
        "agents": row["agents"],
        "status": 1,
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "minTier": row["min_tier"],
        "operatingHours": row["operating_hours"],
        "offHoursMessage": row["off_hours_message"],
    }
