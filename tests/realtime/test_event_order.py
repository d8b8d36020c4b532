"""A conversation's events reach subscribers in commit order: each carries the version its
change committed, and a late one older than a version already delivered is dropped."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from frontdesk.realtime.events import RequestChanged
from frontdesk.realtime.hub import Hub
from frontdesk.services import Services
from tests.conftest import Factory
from tests.realtime.wsclient import signed_in


def _version(client: TestClient, services: Services, rid: str) -> int:
    async def read() -> int:
        return int(await services.db.fetch_value(
            "SELECT version FROM requests WHERE request_id = $1", rid
        ))

    result: int = client.portal.call(read)  # type: ignore[union-attr]
    return result


def test_an_event_overtaken_by_a_later_commit_is_not_delivered(
    make: Factory, client: TestClient
) -> None:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello").status_code == 200
    base = f"/{project.id}/requests/{rid}"
    owner = project.owner.headers
    with signed_in(make.client, project.owner.token) as socket:
        socket.subscribe(f"/{project.id}/requests/{rid}")
        before = _version(client, services, rid)
        closed: dict[str, Any] = make.client.put(base + "/close", headers=owner).json()
        assert _version(client, services, rid) == before + 1  # one version per change
        socket.expect("publish")
        reopened = make.client.put(base + "/reopen", headers=owner).json()
        assert _version(client, services, rid) == before + 2
        assert socket.expect("publish")["message"][0]["status"] == reopened["status"]

        def late(request: dict[str, Any], version: int) -> RequestChanged:
            return RequestChanged(
                project_id=project.id, method="UPDATE", request_id=rid,
                requester_user_id=visitor.id, request=request, version=version,
            )

        # The close's event, arriving again after the reopen's (as from a slower process).
        client.portal.call(hub.on_event, late(closed, before + 1))  # type: ignore[union-attr]
        socket.nothing_more()
        client.portal.call(hub.on_event, late(reopened, before + 2))  # type: ignore[union-attr]
        assert socket.expect("publish")["message"][0]["status"] == reopened["status"]
