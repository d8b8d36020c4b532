"""Routing: which available agent of a department gets a new conversation."""

from __future__ import annotations

from frontdesk.auth.project_cache import ProjectCache
from frontdesk.statuses import RequestStatus
from frontdesk.storage import project_users, requests
from frontdesk.storage.database import Queries
from frontdesk.storage.departments import DepartmentRecord
from frontdesk.storage.project_users import RoutingCandidate


async def pick_agent(
    q: Queries,
    project_id: str,
    department: DepartmentRecord | None,
    *,
    cache: ProjectCache | None = None,
) -> str | None:
    """The least busy available agent of the department, or None (the request then waits).

    A ``pooled`` department never assigns: its agents take conversations from the queue.
    An agent at its ``max_assigned_chat`` is skipped. Within a transaction the agent chosen
    is locked and its load counted again under the lock, so concurrent routings cannot take it
    past its maximum: the later one sees the earlier one's conversation and looks further.

    With ``cache`` the available agents come from the project cache when it holds them (every
    write of an agent's membership evicts them); the caller's transaction must then not have
    written one, as what it reads is cached.
    """
    if department is not None and department["routing"] == "pooled":
        return None
    candidates = await _available_agents(q, project_id, cache)
    if department is not None and department["agents"]:
        allowed = set(department["agents"])
        candidates = [c for c in candidates if c["user_id"] in allowed]
    if not candidates:
        return None
    if len(candidates) == 1 and candidates[0]["max_assigned_chat"] is None:
        # Nobody to compare with and no maximum to respect: the load would decide nothing
        # (counting it reads every open conversation the agent holds).
        return str(candidates[0]["user_id"])
    load = await requests.count_open_assigned(q, project_id, [c["user_id"] for c in candidates])
    eligible = [
        c
        for c in candidates
        if c["max_assigned_chat"] is None or load.get(c["user_id"], 0) < c["max_assigned_chat"]
    ]
    for agent in sorted(eligible, key=lambda c: (load.get(c["user_id"], 0), c["created_at"])):
        limit = agent["max_assigned_chat"]
        if limit is None:
            return str(agent["user_id"])
        await project_users.get_membership(q, project_id, agent["user_id"], lock=True)
        now = await requests.count_open_assigned(q, project_id, [agent["user_id"]])
        if now.get(agent["user_id"], 0) < limit:
            return str(agent["user_id"])
    return None


async def _available_agents(
    q: Queries, project_id: str, cache: ProjectCache | None
) -> list[RoutingCandidate]:
    if cache is None:
        return await project_users.available_agents(q, project_id)
    return await cache.read_available_agents(
        project_id, lambda: project_users.available_agents(q, project_id))


def status_for(participants: list[str]) -> RequestStatus:
    return RequestStatus.ASSIGNED if participants else RequestStatus.UNASSIGNED
