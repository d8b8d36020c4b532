"""Routing: which available agent of a department gets a new conversation."""

from __future__ import annotations

from frontdesk.statuses import RequestStatus
from frontdesk.storage import project_users, requests
from frontdesk.storage.database import Queries, Row


async def pick_agent(q: Queries, project_id: str, department: Row | None) -> str | None:
    """The least busy available agent of the department, or None (the request then waits).

    A ``pooled`` department never assigns: its agents take conversations from the queue.
    An agent at its ``max_assigned_chat`` is skipped.
    """
    if department is not None and department["routing"] == "pooled":
        return None
    candidates = await project_users.list_agents(q, project_id, available_only=True)
    if department is not None and department["agents"]:
        allowed = set(department["agents"])
        candidates = [c for c in candidates if c["user_id"] in allowed]
    if not candidates:
        return None
    load = await requests.count_open_assigned(q, project_id, [c["user_id"] for c in candidates])
    eligible = [
        c
        for c in candidates
        if c["max_assigned_chat"] is None or load.get(c["user_id"], 0) < c["max_assigned_chat"]
    ]
    if not eligible:
        return None
    best = min(eligible, key=lambda c: (load.get(c["user_id"], 0), c["created_at"]))
    return str(best["user_id"])


def status_for(participants: list[str]) -> RequestStatus:
    return RequestStatus.ASSIGNED if participants else RequestStatus.UNASSIGNED
