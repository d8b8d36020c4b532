"""Concurrent tagging: every addition survives, removals and additions never undo each other,
and one name makes one library tag."""

from __future__ import annotations

import asyncio

from tests.concurrency.conftest import Api, Cluster

CLIENTS = 20


def test_concurrent_contact_tag_additions_all_survive(cluster: Cluster) -> None:
    cluster.run(_concurrent_contact_tag_additions_all_survive)


async def _concurrent_contact_tag_additions_all_survive(api: Api) -> None:
    s = await api.conversation("hello")
    path = f"/{s.project_id}/leads/{s.visitor.user_id}/tag"
    await asyncio.gather(*(
        api.call("PUT", path, s.owner.token, json=[f"tag{i}"]) for i in range(CLIENTS)
    ))
    lead = await api.call("GET", f"/{s.project_id}/leads/{s.visitor.user_id}", s.owner.token)
    assert sorted(lead["tags"]) == sorted(f"tag{i}" for i in range(CLIENTS))


def test_concurrent_removals_and_additions_of_conversation_tags(cluster: Cluster) -> None:
    cluster.run(_concurrent_removals_and_additions)


async def _concurrent_removals_and_additions(api: Api) -> None:
    s = await api.conversation("hello")
    start = await api.call("PUT", s.request_path + "/tag", s.owner.token,
                           json=[{"tag": f"old{i}"} for i in range(CLIENTS)])
    removals = [api.call("DELETE", f"{s.request_path}/tag/{t['_id']}", s.owner.token)
                for t in start["tags"]]
    additions = [api.call("PUT", s.request_path + "/tag", s.owner.token, json=[f"new{i}"])
                 for i in range(CLIENTS)]
    await asyncio.gather(*removals, *additions)
    final = await api.call("GET", s.request_path, s.owner.token)
    assert sorted(final["tags"]) == sorted(f"new{i}" for i in range(CLIENTS))


def test_concurrent_creations_of_one_library_tag_make_one(cluster: Cluster) -> None:
    cluster.run(_concurrent_creations_of_one_library_tag)


async def _concurrent_creations_of_one_library_tag(api: Api) -> None:
    s = await api.conversation("hello")
    answers = await asyncio.gather(*(
        api.call("POST", f"/{s.project_id}/tags", s.owner.token,
                 json={"tag": "urgent", "color": "#e5484d"})
        for _ in range(CLIENTS)
    ))
    assert len({a["_id"] for a in answers}) == 1
    library = await api.call("GET", f"/{s.project_id}/tags", s.owner.token)
    assert [t["tag"] for t in library] == ["urgent"]
