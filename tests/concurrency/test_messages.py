"""Concurrent first messages to one new conversation id open one conversation."""

from __future__ import annotations

import asyncio
import uuid

from tests.concurrency.conftest import Api, Cluster

CLIENTS = 24


def test_concurrent_first_messages_make_one_request_one_lead_and_keep_every_message(
    cluster: Cluster,
) -> None:
    cluster.run(_first_messages_at_once)


async def _first_messages_at_once(api: Api) -> None:
    owner = await api.agent()
    project_id = await api.project(owner)
    visitor = await api.visitor(project_id)
    rid = f"support-group-{project_id}-{uuid.uuid4().hex}"
    texts = [f"message {i}" for i in range(CLIENTS)]
    answers = await asyncio.gather(*(api.send(visitor, project_id, rid, t) for t in texts))
    assert {a["request"]["request_id"] for a in answers} == {rid}
    listed = await api.call("GET", f"/{project_id}/requests", owner.token)
    assert [r["request_id"] for r in listed["requests"]] == [rid]
    leads = await api.call("GET", f"/{project_id}/leads", owner.token)
    assert [lead["lead_id"] for lead in leads["leads"]] == [visitor.user_id]
    history = await api.call(
        "GET", f"/{project_id}/requests/{rid}/messages?limit=100", owner.token
    )
    assert sorted(m["text"] for m in history) == sorted(texts)

