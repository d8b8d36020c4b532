"""Concurrent private notes on one conversation: every note added is kept, a deletion removes
only its own note, against two server processes sharing the database."""

from __future__ import annotations

import asyncio

from tests.concurrency.conftest import Api, Cluster

CLIENTS = 20


def test_concurrent_notes_and_deletions_lose_nothing(cluster: Cluster) -> None:
    cluster.run(_concurrent_notes_and_deletions_lose_nothing)


async def _concurrent_notes_and_deletions_lose_nothing(api: Api) -> None:
    s = await api.conversation("hello")
    notes = s.request_path + "/notes"
    first = await api.call("POST", notes, s.owner.token, json={"text": "to delete"})
    doomed = first["notes"][0]["_id"]
    await asyncio.gather(
        api.call("DELETE", f"{notes}/{doomed}", s.owner.token),
        *(api.call("POST", notes, s.owner.token, json={"text": f"note {i}"})
          for i in range(CLIENTS)),
    )
    final = await api.call("GET", s.request_path, s.owner.token)
    assert sorted(n["text"] for n in final["notes"]) == sorted(f"note {i}" for i in range(CLIENTS))
    assert len({n["_id"] for n in final["notes"]}) == CLIENTS
