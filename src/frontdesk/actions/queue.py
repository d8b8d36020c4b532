"""The queue: conversations waiting for an agent (unassigned) are routed as soon as an agent
frees up — becomes available, returns, gets a higher maximum, or closes one of its own.

Routing the queue runs in a transaction of its own, after the change that freed the agent
has committed: that change may hold the agent's membership locked, and routing locks a
conversation before the agent it goes to (docs/concurrency.md).
"""

from __future__ import annotations

from frontdesk.actions.departments import access_department
from frontdesk.actions.requests import apply_changes, notify_request
from frontdesk.actions.routing import pick_agent
from frontdesk.errors import NotFound
from frontdesk.services import Services
from frontdesk.statuses import RequestStatus
from frontdesk.storage import project_users, requests
from frontdesk.storage.database import Queries

# Waiting conversations looked at per routing pass, oldest first.
QUEUE_BATCH = 100


async def route_queue(services: Services, project_id: str) -> list[str]:
    """Route the project's waiting conversations, oldest first, while an agent has room.

    Each conversation is read locked and routed only if it is still waiting, to the agent
    ``pick_agent`` chooses for its department (pooled departments keep theirs waiting).
    Returns the request ids that were assigned.
    """
    routed: list[str] = []
    async with services.db.transaction() as tx:
        for request_id in await requests.list_waiting(tx, project_id, limit=QUEUE_BATCH):
            if not await _anyone_has_room(tx, project_id):
                break
            row = await requests.get_request(tx, project_id, request_id, lock=True)
            if row is None or row["status"] != RequestStatus.UNASSIGNED or row["held_tier"]:
                continue  # taken meanwhile, or held for its department's tier
            department = None
            if row["department_id"] is not None:
                try:
                    department = await access_department(
                        services, project_id, row["department_id"], tx=tx
                    )
                except NotFound:
                    department = None  # deleted since: any agent may take it
            agent = await pick_agent(tx, project_id, department)
            if agent is None:
                continue
            updated = await apply_changes(
                tx, row, now=services.now_ms(), participants=[agent],
                status=RequestStatus.ASSIGNED,
            )
            notify_request(services, tx, updated, "UPDATE")
            routed.append(request_id)
    return routed


async def _anyone_has_room(q: Queries, project_id: str) -> bool:
    """Whether some available agent is below its maximum (a hint: pick_agent decides)."""
    agents = await project_users.list_agents(q, project_id, available_only=True)
    limited = [a["user_id"] for a in agents if a["max_assigned_chat"] is not None]
    if len(limited) < len(agents):
        return True
    load = await requests.count_open_assigned(q, project_id, limited)
    return any(
        a["max_assigned_chat"] is not None and load.get(a["user_id"], 0) < a["max_assigned_chat"]
        for a in agents
    )
