"""/:pid/departments."""

from __future__ import annotations

from frontdesk.actions import departments
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router
from frontdesk.models.departments import present_department

router = Router("departments")


@router.route("GET", "/{pid}/departments", summary="Departments",
              response=list[s.DepartmentPublic], allowed=("agent", "visitor"))
async def list_departments(call: Call) -> list[s.DepartmentPublic]:
    return await departments.list_departments(call.services, call.access.project["id"])


@router.route("GET", "/{pid}/departments/allstatus", summary="Departments (Tiledesk alias)",
              response=list[s.DepartmentPublic])
async def list_all_departments(call: Call) -> list[s.DepartmentPublic]:
    return await departments.list_departments(call.services, call.access.project["id"])


@router.route("POST", "/{pid}/departments", summary="Create a department (admins)",
              body=s.DepartmentCreate, response=s.DepartmentPublic, min_role="admin")
async def create_department(call: Call) -> s.DepartmentPublic:
    b: s.DepartmentCreate = call.body
    return await departments.check_create_department(
        call.services, call.access, name=b.name, routing=_routing(b.routing), agents=b.agents,
        trust=departments.DepartmentTrust(b.minTier, b.operatingHours, b.offHoursMessage),
    )


@router.route("GET", "/{pid}/departments/{did}", summary="A department",
              response=s.DepartmentPublic)
async def get_department(call: Call) -> s.DepartmentPublic:
    row = await departments.access_department(call.services, call.access.project["id"],
                                              call.params["did"])
    return present_department(row)


@router.route("PUT", "/{pid}/departments/{did}", summary="Change a department (admins)",
              body=s.DepartmentUpdate, response=s.DepartmentPublic, min_role="admin")
async def update_department(call: Call) -> s.DepartmentPublic:
    b: s.DepartmentUpdate = call.body
    return await departments.check_update_department(
        call.services, call.access, call.params["did"], name=b.name,
        routing=_routing(b.routing) if b.routing else None, agents=b.agents,
        trust=_trust(b),
    )


@router.route("DELETE", "/{pid}/departments/{did}", summary="Delete a department (admins)",
              response=s.DepartmentPublic, min_role="admin")
async def delete_department(call: Call) -> s.DepartmentPublic:
    return await departments.check_delete_department(call.services, call.access, call.params["did"])


def _trust(b: s.DepartmentUpdate) -> departments.DepartmentTrust:
    # A field left out is kept; one sent as null goes back to the project's.
    sent = b.model_fields_set
    keep = frozenset(
        column for field, column in (("operatingHours", "operating_hours"),
                                     ("offHoursMessage", "off_hours_message"))
        if field not in sent
    )
    return departments.DepartmentTrust(b.minTier, b.operatingHours, b.offHoursMessage, keep)


def _routing(value: str) -> str:
    # Tiledesk's "fixed" routing (a fixed agent group) assigns like "assigned" here.
    return "assigned" if value == "fixed" else value
