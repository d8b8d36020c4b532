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


@closed
class MembershipPublic(TypedDict):
    """One of the caller's projects, with its role there."""

    _id: Annotated[str, Field(description="Membership id")]
    id_project: Annotated[ProjectPublic, Field(description="The project")]
    role: Annotated[str, Field(description="The caller's role there")]
    user_available: Annotated[
        bool, Field(description="Whether the caller takes conversations there")
    ]


@closed
class IsOpenPublic(TypedDict):
    isopen: Annotated[bool, Field(description="Whether it is within its opening hours now")]


@closed
class WidgetProjectPublic(TypedDict):
    _id: Annotated[str, Field(description="Project id (24 hex)")]
    id: SameAsId
    name: Annotated[str, Field(description="The project's name")]
    widget: Annotated[dict[str, Any], Field(description="The widget's appearance settings")]
    allowAnonymous: Annotated[bool, Field(description="Whether visitors may chat without a token")]
    activeOperatingHours: Annotated[bool, Field(description="Whether opening hours apply")]


@closed
class WidgetAgentPublic(TypedDict):
    id: Annotated[str, Field(description="Account id")]
    firstname: Annotated[str, Field(description="First name")]
    lastname: Annotated[str, Field(description="Last name")]


@closed
class WidgetDepartmentPublic(TypedDict):
    _id: Annotated[str, Field(description="Department id (24 hex)")]
    name: Annotated[str, Field(description="Its name")]
    default: Annotated[bool, Field(description="The project's default department")]
    minTier: Annotated[str, Field(
        description="The tier a visitor needs before its conversation reaches this department"
    )]


@closed
class WidgetConfigPublic(TypedDict):
    project: Annotated[
        WidgetProjectPublic, Field(description="What the widget shows of the project")
    ]
    isopen: Annotated[bool, Field(description="Whether it is within its opening hours now")]
    user_available: Annotated[list[WidgetAgentPublic], Field(description="Agents available now")]
    departments: Annotated[
        list[WidgetDepartmentPublic], Field(description="Departments a visitor may choose")
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
