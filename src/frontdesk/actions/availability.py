"""Whether a project (or one of its departments) is open, who is there and how soon a reply
comes: what the widget shows before a visitor writes, and what a new conversation is told."""

from __future__ import annotations

from typing import Any

from frontdesk.actions.access import load_project
from frontdesk.actions.departments import access_department, default_department
from frontdesk.actions.projects import DEFAULT_OFF_HOURS_MESSAGE, hours_open, next_opening
from frontdesk.clock import iso
from frontdesk.models.trust import AvailabilityPublic, EmailDeliveryPublic
from frontdesk.services import Services
from frontdesk.storage import project_users
from frontdesk.storage.database import Queries
from frontdesk.storage.departments import DepartmentRecord
from frontdesk.storage.projects import ProjectRecord

DEFAULT_EXPECTED_REPLY_MINUTES = 5


def opening_hours(
    project: ProjectRecord, department: DepartmentRecord | None
) -> dict[str, Any] | None:
    """The hours that apply: the department's own, else the project's when active, else None
    (always open)."""
    if department is not None and department["operating_hours"] is not None:
        return department["operating_hours"]
    settings = project["settings"]
    if settings.get("active_operating_hours"):
        hours: dict[str, Any] = settings.get("operating_hours", {})
        return hours
    return None


def is_open_for(project: ProjectRecord, department: DepartmentRecord | None, now: float) -> bool:
    hours = opening_hours(project, department)
    return hours is None or hours_open(hours, now)


def off_hours_message(project: ProjectRecord, department: DepartmentRecord | None) -> str:
    if department is not None and department["off_hours_message"]:
        return department["off_hours_message"]
    return str(project["settings"].get("off_hours_message") or DEFAULT_OFF_HOURS_MESSAGE)


def email_delivery(services: Services) -> EmailDeliveryPublic:
    if services.mailer.configured:
        return {"available": True, "reason": None}
    return {"available": False, "reason": "smtp_not_configured"}


async def available_agent_count(
    q: Queries, project_id: str, department: DepartmentRecord | None
) -> int:
    agents = await project_users.list_agents(q, project_id, available_only=True)
    if department is not None and department["agents"]:
        allowed = set(department["agents"])
        agents = [a for a in agents if a["user_id"] in allowed]
    return len(agents)


async def check_availability(
    services: Services, project_id: str, department_id: str | None
) -> AvailabilityPublic:
    """Raises NotFound(unknown_project) and NotFound(department_not_found)."""
    project = await load_project(services, project_id)
    department = (
        await access_department(services, project_id, department_id)
        if department_id
        else await default_department(services, project_id)
    )
    now = services.clock.now()
    hours = opening_hours(project, department)
    is_open = hours is None or hours_open(hours, now)
    agents = await available_agent_count(services.db, project_id, department)
    opening = next_opening(hours, now) if hours is not None and not is_open else None
    expected = project["settings"].get("expected_reply_minutes", DEFAULT_EXPECTED_REPLY_MINUTES)
    return {
        "isopen": is_open,
        "availableAgents": agents,
        "expectedReplyMinutes": int(expected) if is_open and agents else None,
        "nextOpenAt": iso(int(opening * 1000)) if opening is not None else None,
        "offHoursMessage": None if is_open else off_hours_message(project, department),
        "department": None if department is None else {
            "_id": department["id"], "name": department["name"],
            "minTier": department["min_tier"],
        },
        "minTier": department["min_tier"] if department else "anonymous",
        "emailDelivery": email_delivery(services),
    }
