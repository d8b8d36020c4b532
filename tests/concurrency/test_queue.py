"""Routing the queue from many places at once never takes an agent past its maximum."""

from __future__ import annotations

import asyncio
import uuid

from tests.concurrency.conftest import Api, Cluster


def test_concurrent_routings_of_the_queue_respect_the_maximum(cluster: Cluster) -> None:
    cluster.run(_concurrent_routings_respect_the_maximum)


async def _concurrent_routings_respect_the_maximum(api: Api) -> None:
    owner = await api.agent()
    project_id = await api.project(owner)
    team = await api.call("GET", f"/{project_id}/project_users", owner.token)
    member = team[0]["_id"]
    await api.call("PUT", f"/{project_id}/project_users/{member}", owner.token,
                   json={"max_assigned_chat": 2})
    visitor = await api.visitor(project_id)
    rids = [f"support-group-{project_id}-{uuid.uuid4().hex}" for _ in range(8)]
    for rid in rids:
        await api.send(visitor, project_id, rid, "hello")
    first_two = rids[:2]

    # Close both of the agent's conversations while its maximum is set again and again:
    # every one of these routes the queue.
    answers = await asyncio.gather(
        *(api.raw("PUT", f"/{project_id}/requests/{rid}/close", owner.token)
          for rid in first_two),
        *(api.raw("PUT", f"/{project_id}/project_users/{member}", owner.token,
                  json={"max_assigned_chat": 2}) for _ in range(6)),
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    page = await api.call("GET", f"/{project_id}/requests", owner.token,
                          params={"status": "open", "limit": 50})
    statuses = sorted(r["status"] for r in page["requests"])
    assert statuses == [100, 100, 100, 100, 200, 200], statuses
    assigned = [r["request_id"] for r in page["requests"] if r["status"] == 200]
    # The oldest waiting ones went first.
    assert sorted(assigned) == sorted(rids[2:4])
