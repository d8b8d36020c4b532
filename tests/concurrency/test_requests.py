"""Concurrent commands on one conversation: no change is lost, every state is consistent,
and a subscriber's last event is the state that was committed last."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from tests.concurrency.conftest import Api, Cluster
from tests.realtime.live_api import open_socket

CLIENTS = 30


def test_concurrent_attribute_edits_of_different_keys_all_survive(cluster: Cluster) -> None:
    cluster.run(_concurrent_attribute_edits_of_different_keys_all_survive)


async def _concurrent_attribute_edits_of_different_keys_all_survive(api: Api) -> None:
    s = await api.conversation("hello")
    edits = []
    for i in range(CLIENTS):
        if i % 2:  # both endpoints that merge attributes
            edits.append(api.call("PATCH", s.request_path + "/attributes", s.owner.token,
                                  json={f"key{i}": i}))
        else:
            edits.append(api.call("PATCH", s.request_path, s.owner.token,
                                  json={"attributes": {f"key{i}": i}}))
    await asyncio.gather(*edits)
    final = await api.call("GET", s.request_path, s.owner.token)
    kept = {k: v for k, v in final["attributes"].items() if k.startswith("key")}
    assert kept == {f"key{i}": i for i in range(CLIENTS)}



def test_concurrent_tag_additions_all_survive(cluster: Cluster) -> None:
    cluster.run(_concurrent_tag_additions_all_survive)


async def _concurrent_tag_additions_all_survive(api: Api) -> None:
    s = await api.conversation("hello")
    await asyncio.gather(*(
        api.call("PUT", s.request_path + "/tag", s.owner.token,
                 json=[{"tag": f"tag{i}", "color": "#43B1F2"}])
        for i in range(CLIENTS)
    ))
    again = await api.call("PUT", s.request_path + "/tag", s.owner.token, json=["tag0"])
    names = sorted(t["tag"] if isinstance(t, dict) else t for t in again["tags"])
    assert names == sorted(f"tag{i}" for i in range(CLIENTS))  # each once



def _consistent(request: dict[str, Any]) -> None:
    closed = request["status"] == 1000
    assert closed == (request["closed_at"] is not None), request
    if not closed:
        assert request["status"] == (200 if request["participants"] else 100), request


def test_concurrent_assign_close_reopen_end_in_one_consistent_state_announced_last(
    cluster: Cluster,
) -> None:
    cluster.run(_assign_close_reopen_at_once)


async def _assign_close_reopen_at_once(api: Api) -> None:
    s = await api.conversation("hello")
    socket = await open_socket(api.urls[-1], s.owner.token)
    await socket.subscribe(f"/{s.project_id}/requests/{s.request_id}")
    verbs = [("PUT", "/assign", {}), ("PUT", "/close", None), ("PUT", "/reopen", None)]
    rng = random.Random(12)
    commands = [rng.choice(verbs) for _ in range(CLIENTS)]
    answers = await asyncio.gather(*(
        api.raw(method, s.request_path + suffix, s.owner.token, json=body)
        for method, suffix, body in commands
    ))
    for answer in answers:
        # Assigning a conversation another command has just closed is refused; nothing
        # else may fail.
        assert answer.status_code == 200 or (
            answer.status_code == 409 and answer.json()["code"] == "request_closed"
        ), answer.text
        if answer.status_code == 200:
            _consistent(answer.json())
    final = await api.call("GET", s.request_path, s.owner.token)
    _consistent(final)
    seen: list[dict[str, Any]] = []
    try:
        while True:
            frame = await socket.frame(timeout=1.5)
            if frame["action"] == "publish":
                seen.extend(frame["payload"]["message"])
    except TimeoutError:
        pass
    await socket.ws.close()
    assert seen, "no event reached the subscriber"
    for state in seen:
        _consistent(state)
    last = seen[-1]
    assert (last["status"], last["participants"], last["closed_at"], last["updatedAt"]) == (
        final["status"], final["participants"], final["closed_at"], final["updatedAt"]
    ), json.dumps([last, final])

