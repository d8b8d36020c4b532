"""Concurrent edits of one contact: edits of different fields all survive."""

from __future__ import annotations

import asyncio

from tests.concurrency.conftest import Api, Cluster

CLIENTS = 24


def test_concurrent_edits_of_different_lead_fields_all_survive(cluster: Cluster) -> None:
    cluster.run(_concurrent_edits_of_different_lead_fields_all_survive)


async def _concurrent_edits_of_different_lead_fields_all_survive(api: Api) -> None:
    s = await api.conversation("hello")
    path = f"/{s.project_id}/leads/{s.visitor.user_id}"
    fields = {"fullname": "Grace Hopper", "email": "grace@example.com", "phone": "+1 555 0100"}
    edits = [api.call("PUT", path, s.owner.token, json={name: value})
             for name, value in fields.items()]
    edits += [api.call("PUT", path, s.owner.token, json={"attributes": {f"note{i}": i}})
              for i in range(CLIENTS)]
    await asyncio.gather(*edits)
    lead = await api.call("GET", path, s.owner.token)
    assert {name: lead[name] for name in fields} == fields
    notes = {k: v for k, v in lead["attributes"].items() if k.startswith("note")}
    assert notes == {f"note{i}": i for i in range(CLIENTS)}

