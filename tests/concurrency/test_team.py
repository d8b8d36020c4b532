"""Concurrent demotions and removals of owners leave the project an owner."""

from __future__ import annotations

import asyncio

from tests.concurrency.conftest import Api, Cluster
from tests.realtime.live_api import Session


async def _member_id(api: Api, owner: Session, project_id: str, user_id: str) -> str:
    team = await api.call("GET", f"/{project_id}/project_users", owner.token)
    return next(str(m["_id"]) for m in team if m["id_user"]["_id"] == user_id)


def test_owners_demoting_each_other_at_once_leave_one_owner(cluster: Cluster) -> None:
    cluster.run(_owners_demoting_each_other_at_once_leave_one_owner)


async def _owners_demoting_each_other_at_once_leave_one_owner(api: Api) -> None:
    first = await api.agent()
    project_id = await api.project(first)
    second = await api.agent()
    invite = await api.call("POST", f"/{project_id}/project_users/invite", first.token,
                            json={"email": second.email, "role": "admin"})
    await api.call("POST", "/auth/invitations/accept", second.token,
                   json={"token": invite["token"]})
    ids = {s.user_id: await _member_id(api, first, project_id, s.user_id)
           for s in (first, second)}
    await api.call("PUT", f"/{project_id}/project_users/{ids[second.user_id]}",
                   first.token, json={"role": "owner"})
    # Each owner demotes the other and itself, all at once.
    answers = await asyncio.gather(*(
        api.raw("PUT", f"/{project_id}/project_users/{ids[target.user_id]}", actor.token,
                json={"role": "admin"})
        for actor in (first, second) for target in (first, second)
    ))
    codes = sorted(
        a.json().get("code", "ok") if a.status_code != 200 else "ok" for a in answers
    )
    assert "ok" in codes and set(codes) <= {"ok", "last_owner", "insufficient_role"}, codes
    team = await api.call("GET", f"/{project_id}/project_users", first.token)
    assert [m["role"] for m in team].count("owner") == 1, team

