"""A file sent at once into several conversations lands in exactly one of them."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from tests.concurrency.conftest import Api, Cluster

CONVERSATIONS = 8


def test_one_upload_sent_into_many_conversations_at_once_binds_to_one(
    cluster: Cluster,
) -> None:
    cluster.run(_same_file_everywhere)


async def _same_file_everywhere(api: Api) -> None:
    owner = await api.agent()
    project_id = await api.project(owner)
    visitor = await api.visitor(project_id)
    rids = [f"support-group-{project_id}-{uuid.uuid4().hex}" for _ in range(CONVERSATIONS)]
    uploaded = await api.call("POST", f"/{project_id}/files/chat", visitor.token,
                              files={"file": ("note.txt", b"a note\n", "text/plain")})
    answers = await asyncio.gather(*(
        api.raw("POST", f"/{project_id}/requests/{rid}/messages", visitor.token,
                json={"type": "file", "text": "note.txt", "metadata": uploaded["metadata"]})
        for rid in rids
    ))
    outcomes = Counter((a.status_code, a.json().get("code")) for a in answers)
    assert outcomes == {(200, None): 1, (409, "file_in_another_conversation"): CONVERSATIONS - 1}
    winner = next(rid for rid, a in zip(rids, answers, strict=True) if a.status_code == 200)
    view = await api.call("GET", f"/{project_id}/files/{uploaded['_id']}", owner.token)
    assert view["request_id"] == winner
    # The losers opened no conversation: a refused first message leaves nothing behind.
    listed = await api.call("GET", f"/{project_id}/requests", owner.token)
    assert [r["request_id"] for r in listed["requests"]] == [winner]
