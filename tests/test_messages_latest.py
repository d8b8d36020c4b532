"""The dashboard opens a conversation on its newest page and scrolls back with ``before``."""

from __future__ import annotations

from tests.conftest import Factory


def test_latest_page_then_scroll_back(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    for n in range(5):
        assert visitor.send(rid, f"message {n}").status_code == 200
    url = f"/{project.id}/requests/{rid}/messages"
    headers = project.owner.headers

    newest = make.client.get(url, params={"latest": "true", "limit": 2}, headers=headers).json()
    assert [m["text"] for m in newest] == ["message 3", "message 4"]

    older = make.client.get(url, params={"before": newest[0]["_id"], "limit": 2},
                            headers=headers).json()
    assert [m["text"] for m in older] == ["message 1", "message 2"]

    first = make.client.get(url, params={"limit": 2}, headers=headers).json()
    assert [m["text"] for m in first] == ["message 0", "message 1"]
