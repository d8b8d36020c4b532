"""Concurrent first messages to one new conversation id open one conversation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.concurrency.conftest import Api, Cluster

CLIENTS = 24


def test_concurrent_first_messages_make_one_request_one_lead_and_keep_every_message(
    cluster: Cluster,
) -> None:
    cluster.run(_first_messages_at_once)


async def _visitor_and_new_conversation_id(api: Api) -> tuple[Any, str, Any, str]:
    """An agent, its project, a visitor and an id for a conversation not opened yet."""
    owner = await api.agent()
    project_id = await api.project(owner)
    visitor = await api.visitor(project_id)
    return owner, project_id, visitor, f"support-group-{project_id}-{uuid.uuid4().hex}"


async def _first_messages_at_once(api: Api) -> None:
    owner, project_id, visitor, rid = await _visitor_and_new_conversation_id(api)
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



def test_concurrent_messages_into_one_conversation_are_all_counted(cluster: Cluster) -> None:
    """Each message raises the conversation's count of visitor messages (an agent's unread
    count) from what it read: on PostgreSQL read without a lock and written only if nothing
    changed in between, else again under the lock. None is lost."""
    cluster.run(_messages_at_once)


async def _messages_at_once(api: Api) -> None:
    owner, project_id, visitor, rid = await _visitor_and_new_conversation_id(api)
    await api.send(visitor, project_id, rid, "first")
    texts = [f"message {i}" for i in range(CLIENTS)]
    await asyncio.gather(*(api.send(visitor, project_id, rid, t) for t in texts))
    listed = await api.call("GET", f"/{project_id}/requests?view=inbox", owner.token)
    assert [(r["request_id"], r["unread"]) for r in listed["requests"]] == [(rid, CLIENTS + 1)]
    history = await api.call(
        "GET", f"/{project_id}/requests/{rid}/messages?limit=100", owner.token
    )
    assert sorted(m["text"] for m in history) == sorted(["first", *texts])


def test_concurrent_new_conversations_never_take_an_agent_past_its_maximum(
    cluster: Cluster,
) -> None:
    cluster.run(_routing_at_once)


async def _routing_at_once(api: Api) -> None:
    owner = await api.agent()
    project_id = await api.project(owner)
    team = await api.call("GET", f"/{project_id}/project_users", owner.token)
    await api.call("PUT", f"/{project_id}/project_users/{team[0]['_id']}", owner.token,
                   json={"max_assigned_chat": 2})
    visitors = await asyncio.gather(*(api.visitor(project_id) for _ in range(12)))
    await asyncio.gather(*(
        api.send(v, project_id, f"support-group-{project_id}-{uuid.uuid4().hex}", "hello")
        for v in visitors
    ))
    listed = await api.call("GET", f"/{project_id}/requests?limit=100", owner.token)
    statuses = sorted(r["status"] for r in listed["requests"])
    assert statuses == [100] * 10 + [200] * 2  # two assigned, the others wait
