"""Concurrent sign-ins presenting the same anonymous proof merge it once."""

from __future__ import annotations

import asyncio
import uuid

from tests.concurrency.conftest import Api, Cluster

CLIENTS = 8


def test_concurrent_merges_of_one_anonymous_session_make_one_merge(cluster: Cluster) -> None:
    cluster.run(_concurrent_merges_of_one_anonymous_session_make_one_merge)


async def _concurrent_merges_of_one_anonymous_session_make_one_merge(api: Api) -> None:
    chat = await api.conversation("before signing in")
    owner, project_id, anonymous, rid = chat.owner, chat.project_id, chat.visitor, chat.request_id
    secret = await api.secret(owner, project_id)
    customer = "customer-" + uuid.uuid4().hex[:8]
    answers = await asyncio.gather(*(
        api.customer_signin(project_id, secret, customer, anonymous=anonymous.token)
        for _ in range(CLIENTS)
    ))
    assert [a.status_code for a in answers] == [200] * CLIENTS, [a.text for a in answers]
    merged = [a.json()["merge"] for a in answers if a.json()["merge"]["merged"]]
    assert len(merged) == 1, [a.json()["merge"] for a in answers]
    assert merged[0]["requests"] == [rid]
    refused = {a.json()["merge"].get("code") for a in answers} - {None}
    assert refused == {"session_revoked"}
    merges = await api.call("GET", f"/{project_id}/leads/{customer}/merges", owner.token)
    assert [m["_id"] for m in merges] == [merged[0]["_id"]]
    conversation = await api.call("GET", f"/{project_id}/requests/{rid}", owner.token)
    assert conversation["lead"]["lead_id"] == customer

