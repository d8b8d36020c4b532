"""Projects (tenants) as their agents see them."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import SameAsId, Time, closed
from frontdesk.storage.projects import ProjectRecord


@closed
class ProjectPublic(TypedDict):
    """A project and its settings document."""

    _id: Annotated[str, Field(description="Project id (24 hex)")]
    id: SameAsId
    name: Annotated[str, Field(description="Its name, as agents see it")]
    createdBy: Annotated[str | None, Field(description="Account id of its creator")]
    createdAt: Time
    updatedAt: Time
    activeOperatingHours: Annotated[
        bool, Field(description="Whether operatingHours decide when the project is open")
    ]
    operatingHours: Annotated[dict[str, Any], Field(description="Opening hours by weekday")]
    settings: Annotated[dict[str, Any], Field(description="Every setting of the project")]
    widget: Annotated[dict[str, Any], Field(description="The widget's appearance settings")]
    role: NotRequired[
        Annotated[str, Field(description="The caller's role in it (owner, admin, agent)")]
    ]


def present_project(row: ProjectRecord, *, role: str | None = None) -> ProjectPublic:
    settings = row["settings"]
    body: ProjectPublic = {
        "_id": row["id"],
        "id": row["id"],
        "name": row["name"],
        "createdBy": row["created_by"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "activeOperatingHours": bool(settings.get("active_operating_hours", False)),
        "operatingHours": settings.get("operating_hours", {}),
        "settings": settings,
        "widget": settings.get("widget", {}),
    }
    if role is not None:
        body["role"] = role
    return body
