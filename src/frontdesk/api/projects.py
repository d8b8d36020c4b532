"""/projects: create, list, read and configure projects; opening hours; widget config."""

from __future__ import annotations

from frontdesk.actions import projects, team
from frontdesk.actions.access import load_project
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router
from frontdesk.models.projects import present_project

router = Router("projects")


@router.route("POST", "/projects", summary="Create a project (the caller becomes its owner)",
              body=s.ProjectCreate, response=s.ProjectPublic, min_role=None)
async def create_project(call: Call) -> s.ProjectPublic:
    b: s.ProjectCreate = call.body
    return await projects.do_create_project(call.services, call.agent, b.name)


@router.route("GET", "/projects", summary="The caller's projects with its role in each",
              response=list[s.MembershipPublic])
async def list_projects(call: Call) -> list[s.MembershipPublic]:
    return await projects.list_projects_of(call.services, call.agent)


@router.route("GET", "/projects/{pid}", summary="A project", response=s.ProjectPublic)
async def get_project(call: Call) -> s.ProjectPublic:
    return present_project(call.access.project, role=call.access.role)


@router.route("PUT", "/projects/{pid}", summary="Rename or configure a project (admins)",
              body=s.ProjectUpdate, response=s.ProjectPublic, min_role="admin")
async def update_project(call: Call) -> s.ProjectPublic:
    b: s.ProjectUpdate = call.body
    settings = b.settings.model_dump(exclude_none=True) if b.settings else {}
    if b.activeOperatingHours is not None:
        settings["active_operating_hours"] = b.activeOperatingHours
    if b.operatingHours is not None:
        settings["operating_hours"] = b.operatingHours
    return await projects.do_update_project(call.services, call.access, name=b.name,
                                            settings=settings)


@router.route("GET", "/projects/{pid}/users/availables", summary="Agents available now",
              response=list[s.AvailableAgentPublic], allowed=("public",))
async def available_agents(call: Call) -> list[s.AvailableAgentPublic]:
    await load_project(call.services, call.params["pid"])
    return await team.list_available(call.services, call.params["pid"])


@router.route("GET", "/projects/{pid}/isopen", summary="Whether the project is open now",
              response=s.IsOpenPublic, allowed=("public",))
async def is_open(call: Call) -> s.IsOpenPublic:
    return await projects.check_is_open(call.services, call.params["pid"])


@router.route("GET", "/{pid}/widgets", summary="Public widget configuration",
              response=s.WidgetConfigPublic, allowed=("public",))
async def widget_config(call: Call) -> s.WidgetConfigPublic:
    return await projects.public_widget_config(call.services, call.params["pid"])
