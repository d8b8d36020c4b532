"""Projects: creation (with a default department and the creator as owner), settings, hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess, load_project
from frontdesk.actions.files import upload_limit
from frontdesk.auth.policy import POLICY_KEYS
from frontdesk.auth.principals import Agent
from frontdesk.errors import ValidationFailed
from frontdesk.models.projects import (
    IsOpenPublic,
    MembershipPublic,
    ProjectPublic,
    WidgetConfigPublic,
    present_project,
)
from frontdesk.realtime.events import AccessChanged
from frontdesk.services import Services
from frontdesk.storage import departments, project_users, projects
from frontdesk.storage.projects import ProjectRecord

# Policy keys that decide whether a visitor already signed in may still use the project.
_ACCESS_KEYS = ("allow_anonymous", "allowed_origins")

DEFAULT_OFF_HOURS_MESSAGE = (
    "We are closed right now. Leave your message and we will answer when we are back;"
    " confirm your e-mail address to get the answer by e-mail."
)
DEFAULT_SETTINGS: dict[str, Any] = {
    "allow_anonymous": True,
    "active_operating_hours": False,
    "operating_hours": {},
    "widget": {},
}


async def do_create_project(services: Services, agent: Agent, name: str) -> ProjectPublic:
    now = services.now_ms()
    project_id = services.ids.object_id()
    async with services.db.transaction() as tx:
        await projects.insert_project(
            tx,
            id=project_id,
            name=name,
            settings=dict(DEFAULT_SETTINGS),
            created_by=agent.user_id,
            now=now,
        )
        services.project_changed_on_commit(tx, project_id)
        await project_users.insert_project_user(
            tx,
            id=services.ids.object_id(),
            project_id=project_id,
            user_id=agent.user_id,
            role="owner",
            now=now,
        )
        services.project_changed_on_commit(tx, project_id, agent.user_id)
        await departments.insert_department(
            tx,
            id=services.ids.object_id(),
            project_id=project_id,
            name="Default Department",
            is_default=True,
            routing="assigned",
            agents=[],
            now=now,
        )
        services.project_changed_on_commit(tx, project_id)  # its default department too
        row = await projects.get_project(tx, project_id)
    assert row is not None
    return present_project(row, role="owner")


async def list_projects_of(services: Services, agent: Agent) -> list[MembershipPublic]:
    """Memberships in Tiledesk's shape: ``{id_project: {...}, role, user_available, …}``."""
    rows = await projects.projects_of_user(services.db, agent.user_id)
    return [
        {
            "_id": row["project_user_id"],
            "id_project": present_project(row),
            "role": row["member_role"],
            "user_available": bool(row["member_available"]),
        }
        for row in rows
    ]


async def do_update_project(
    services: Services, access: ProjectAccess, *, name: str | None, settings: dict[str, Any]
) -> ProjectPublic:
    async with services.db.transaction() as tx:
        project = await projects.get_project(tx, access.project["id"], lock=True)
        assert project is not None  # projects are never deleted
        merged = {**project["settings"], **settings}
        if "operating_hours" in settings:
            validate_operating_hours(merged["operating_hours"])
        changed = {
            k: merged[k] for k in (*POLICY_KEYS, "key_grace_period")
            if k in settings and project["settings"].get(k) != merged[k]
        }
        # Locked since it was read: the project is now that row with what is written here.
        updated: ProjectRecord = {
            **project, "name": name or project["name"], "settings": merged,
            "updated_at": services.now_ms(),
        }
        await projects.update_project(
            tx, project["id"], name=updated["name"], settings=merged, now=updated["updated_at"]
        )
        services.project_changed_on_commit(tx, project["id"])
        if changed:
            await audit.record(services, tx, project["id"], audit.AuditEvent(
                "policy.changed", actor=access.agent.user_id, details=changed,
            ))
        if any(k in changed for k in _ACCESS_KEYS):
            # Visitors' open sockets are held to the new policy at once, on every process.
            services.publish_on_commit(
                tx, AccessChanged(project_id=project["id"], reason="policy_changed")
            )
    return present_project(updated, role=access.role)


def validate_operating_hours(hours: dict[str, Any]) -> None:
    """Tiledesk's shape: ``{"tzname": "Europe/Rome", "1": [{"start": "09:00", "end": "18:00"}]}``
    with days 0 (Sunday) to 6."""
    tz = hours.get("tzname", "UTC")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown time zone {tz!r}", code="invalid_timezone") from None
    for day, ranges in hours.items():
        if day == "tzname":
            continue
        if day not in {"0", "1", "2", "3", "4", "5", "6"} or not isinstance(ranges, list):
            raise ValidationFailed(f"operating hours day {day!r} is not 0..6 with a list",
                                   code="invalid_operating_hours")
        for span in ranges:
            if not (isinstance(span, dict) and _is_hhmm(span.get("start"))
                    and _is_hhmm(span.get("end"))):
                raise ValidationFailed("each span needs start and end as HH:MM",
                                       code="invalid_operating_hours")


def _is_hhmm(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hh, mm = value[:2], value[3:]
    return hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60


def is_open(project: ProjectRecord, now: float) -> bool:
    settings = project["settings"]
    if not settings.get("active_operating_hours"):
        return True
    return hours_open(settings.get("operating_hours", {}), now)


def hours_open(hours: dict[str, Any], now: float) -> bool:
    """Whether ``now`` (epoch seconds) falls within ``hours`` (validated, Tiledesk's shape)."""
    local = datetime.fromtimestamp(now, ZoneInfo(str(hours.get("tzname", "UTC"))))
    day = str((local.weekday() + 1) % 7)  # Python's Monday=0 to Tiledesk's Sunday=0
    minute = local.strftime("%H:%M")
    return any(span["start"] <= minute < span["end"] for span in hours.get(day, []))


def next_opening(hours: dict[str, Any], now: float) -> float | None:
    """Epoch seconds of the next opening within a week after ``now``, or None (never open)."""
    zone = ZoneInfo(str(hours.get("tzname", "UTC")))
    local = datetime.fromtimestamp(now, zone)
    for ahead in range(8):
        date = (local + timedelta(days=ahead)).date()
        day = str((date.weekday() + 1) % 7)
        for start in sorted(span["start"] for span in hours.get(day, [])):
            hh, mm = int(start[:2]), int(start[3:])
            opening = datetime(date.year, date.month, date.day, hh, mm, tzinfo=zone).timestamp()
            if opening > now:
                return opening
    return None


async def check_is_open(services: Services, project_id: str) -> IsOpenPublic:
    project = await load_project(services, project_id)
    return {"isopen": is_open(project, services.clock.now())}


async def public_widget_config(services: Services, project_id: str) -> WidgetConfigPublic:
    """What the widget needs before anyone signs in; nothing secret."""
    project = await load_project(services, project_id)
    settings = project["settings"]
    agents = await project_users.list_agents(services.db, project_id, available_only=True)
    depts = await departments.list_departments(services.db, project_id)
    return {
        "project": {
            "_id": project["id"],
            "id": project["id"],
            "name": project["name"],
            "widget": settings.get("widget", {}),
            "allowAnonymous": bool(settings.get("allow_anonymous", True)),
            "activeOperatingHours": bool(settings.get("active_operating_hours", False)),
            "maxUploadBytes": upload_limit(services, project),
        },
        "isopen": is_open(project, services.clock.now()),
        "user_available": [
            {"id": a["user_id"], "firstname": a["user_firstname"], "lastname": a["user_lastname"]}
            for a in agents
        ],
        "departments": [
            {"_id": d["id"], "name": d["name"], "default": bool(d["is_default"]),
             "minTier": d["min_tier"]}
            for d in depts
        ],
    }
