"""Access that changes while a socket is open is re-checked on that socket at once: a merge
revert drops the conversations given back, a switch to authenticated-only visitors closes
anonymous sockets, and a re-check after missed events closes signed-out sessions."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from frontdesk.errors import Forbidden
from frontdesk.realtime import hub as hub_module
from frontdesk.realtime.events import AccessChanged, MembershipRevoked
from frontdesk.realtime.hub import Hub
from frontdesk.services import Services
from frontdesk.storage import sessions
from tests.conftest import Factory, Project, Visitor
from tests.realtime.wsclient import signed_in
from tests.test_merges import customer_signin


def _merged_visitor(make: Factory, project: Project) -> tuple[dict[str, Any], Visitor, str]:
    """An anonymous conversation merged into a signed-in visitor: (merge, visitor, its rid)."""
    anonymous = make.visitor(project)
    rid = anonymous.new_request_id()
    assert anonymous.send(rid, "before signing in").status_code == 200
    r = customer_signin(make, project, anonymous, _id="alice-" + anonymous.id[:8])
    assert r.status_code == 200, r.text
    body = r.json()
    alice = Visitor(make.client, body["token"], body["user"], project.id)
    return body["merge"], alice, rid


def _reply(make: Factory, project: Project, rid: str, text: str) -> None:
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": text},
                         headers=project.owner.headers)
    assert r.status_code == 200, r.text


def test_a_reverted_merge_stops_the_visitors_socket_hearing_that_conversation(
    make: Factory,
) -> None:
    project = make.project()
    merge, alice, merged_rid = _merged_visitor(make, project)
    own_rid = alice.new_request_id()
    assert alice.send(own_rid, "my own question").status_code == 200
    merged = f"/{project.id}/requests/{merged_rid}/messages"
    own = f"/{project.id}/requests/{own_rid}/messages"
    with signed_in(make.client, alice.token) as socket:
        assert [m["text"] for m in socket.subscribe(merged)["objects"]] == ["before signing in"]
        socket.subscribe(f"/{project.id}/requests/{merged_rid}")
        socket.subscribe(own)

        r = make.client.post(f"/{project.id}/merges/{merge['_id']}/revert",
                             headers=project.owner.headers)
        assert r.status_code == 200, r.text

        dropped = {}
        for _ in range(2):
            error = socket.expect("error")
            dropped[error["topic"]] = error["code"]
        assert dropped == {
            merged: "not_your_request",
            f"/{project.id}/requests/{merged_rid}": "not_your_request",
        }
        _reply(make, project, merged_rid, "meant for the anonymous visitor")
        _reply(make, project, own_rid, "meant for alice")
        live = socket.expect("publish")  # her own conversation still flows, nothing else
        assert (live["topic"], [m["text"] for m in live["message"]]) == (own, ["meant for alice"])
        socket.nothing_more()
        # As REST says: that conversation is not hers any more.
        socket.send("subscribe", topic=merged)
        assert socket.expect("error")["code"] == "not_your_request"
        rest = make.client.get(f"/{project.id}/requests/{merged_rid}/messages",
                               headers=alice.headers)
        assert (rest.status_code, rest.json()["code"]) == (403, "not_your_request")


def test_requiring_authenticated_visitors_closes_anonymous_sockets(make: Factory) -> None:
    project = make.project()
    anonymous, idle = make.visitor(project), make.visitor(project)
    signed = make.visitor(project, authenticated=True)
    rid, signed_rid = anonymous.new_request_id(), signed.new_request_id()
    assert anonymous.send(rid, "hello").status_code == 200
    assert signed.send(signed_rid, "hello too").status_code == 200
    with (
        signed_in(make.client, anonymous.token) as anonymous_socket,
        signed_in(make.client, idle.token) as idle_socket,  # subscribed to nothing
        signed_in(make.client, signed.token) as signed_socket,
        signed_in(make.client, project.owner.token) as agent_socket,
    ):
        anonymous_socket.subscribe(f"/{project.id}/requests/{rid}/messages")
        signed_socket.subscribe(f"/{project.id}/requests/{signed_rid}/messages")
        agent_socket.subscribe(f"/{project.id}/requests")

        r = make.client.put(f"/projects/{project.id}", headers=project.owner.headers,
                            json={"settings": {"allow_anonymous": False}})
        assert r.status_code == 200, r.text

        for socket in (anonymous_socket, idle_socket):
            assert socket.expect("error")["code"] == "anonymous_not_allowed"
            assert socket.closed() == (4403, "anonymous_not_allowed")
        _reply(make, project, signed_rid, "still here")
        assert signed_socket.expect("publish")["message"][0]["text"] == "still here"
        assert agent_socket.expect("publish")["topic"] == f"/{project.id}/requests"


def test_a_policy_change_that_keeps_anonymous_visitors_closes_nothing(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    rid = anonymous.new_request_id()
    assert anonymous.send(rid, "hello").status_code == 200
    with signed_in(make.client, anonymous.token) as socket:
        socket.subscribe(f"/{project.id}/requests/{rid}/messages")
        r = make.client.put(f"/projects/{project.id}", headers=project.owner.headers,
                            json={"settings": {"allowed_origins": ["https://shop.example"]}})
        assert r.status_code == 200, r.text  # the test client sends no Origin: still allowed
        _reply(make, project, rid, "answer")
        assert socket.expect("publish")["message"][0]["text"] == "answer"


@pytest.fixture
def services(client: TestClient) -> Services:
    app_services: Services = client.app.state.services  # type: ignore[attr-defined]
    return app_services


def test_a_re_check_closes_sockets_whose_session_ended_unheard(
    make: Factory, client: TestClient, services: Services
) -> None:
    """What the hub does once the broker is back after a drop: revocations published during
    the gap never arrived, so every socket is checked against the database."""
    project = make.project()
    gone, staying = make.visitor(project), make.visitor(project)
    member = make.member(project)
    rid = staying.new_request_id()
    assert staying.send(rid, "hello").status_code == 200
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]

    async def end_sessions_silently() -> None:
        # As if revoked by another process whose events were lost: the rows only.
        async with services.db.transaction() as tx:
            await sessions.revoke_session(tx, _jti(gone.token), now=services.now_ms(),
                                          reason="logout")
            await sessions.revoke_session(tx, _jti(member.token), now=services.now_ms(),
                                          reason="logout")

    with (
        signed_in(make.client, gone.token) as gone_socket,
        signed_in(make.client, staying.token) as staying_socket,
        signed_in(make.client, member.token) as member_socket,
    ):
        staying_socket.subscribe(f"/{project.id}/requests/{rid}/messages")
        member_socket.subscribe(f"/{project.id}/requests")
        client.portal.call(end_sessions_silently)  # type: ignore[union-attr]
        gone_socket.nothing_more()  # nothing told this process

        client.portal.call(hub.recheck_all)  # type: ignore[union-attr]

        assert gone_socket.closed() == (4401, "session_revoked")
        assert member_socket.closed() == (4401, "session_revoked")
        _reply(make, project, rid, "still open")
        assert staying_socket.expect("publish")["message"][0]["text"] == "still open"


def _jti(token: str) -> str:
    claims = jwt.decode(token.split(" ")[-1], options={"verify_signature": False})
    return str(claims["jti"])


def test_a_re_check_that_fails_closes_that_socket_and_checks_the_others(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make.project()
    broken, anonymous = make.visitor(project), make.visitor(project)
    check = hub_module.check_session_live

    async def failing_for_one(services: Services, principal: Any) -> None:
        if principal.id == broken.id:
            raise RuntimeError("the database went away for this one")
        await check(services, principal)

    monkeypatch.setattr(hub_module, "check_session_live", failing_for_one)
    with (
        signed_in(make.client, broken.token) as broken_socket,
        signed_in(make.client, anonymous.token) as anonymous_socket,
    ):
        r = make.client.put(f"/projects/{project.id}", headers=project.owner.headers,
                            json={"settings": {"allow_anonymous": False}})
        assert r.status_code == 200, r.text

        assert broken_socket.closed() == (1011, "internal_error")
        assert anonymous_socket.expect("error")["code"] == "anonymous_not_allowed"
        assert anonymous_socket.closed() == (4403, "anonymous_not_allowed")


def _racing_access_check(
    monkeypatch: pytest.MonkeyPatch, meanwhile: Any, then: Any = None
) -> list[int]:
    """Make the hub's access check of a subscribe run ``meanwhile()`` (as an event handled
    while the check awaited the database) after its first answer, and call ``then()`` instead
    of checking on later calls; the number of calls, as a list of one int."""
    check = hub_module.access_topic
    calls = [0]

    async def racing(services: Services, principal: Any, topic: Any) -> Any:
        calls[0] += 1
        if calls[0] > 1 and then is not None:
            then()
        access = await check(services, principal, topic)
        if calls[0] == 1:
            await meanwhile()
        return access

    monkeypatch.setattr(hub_module, "access_topic", racing)
    return calls


def test_a_subscribe_whose_check_raced_an_access_change_checks_again(
    make: Factory, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello").status_code == 200
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]

    async def policy_changed() -> None:
        await hub.on_event(AccessChanged(project_id=project.id, reason="policy_changed"))

    def refused() -> None:
        raise Forbidden("anonymous visitors are not allowed", code="anonymous_not_allowed")

    calls = _racing_access_check(monkeypatch, policy_changed, refused)
    with signed_in(make.client, visitor.token) as socket:
        topic = f"/{project.id}/requests/{rid}/messages"
        socket.send("subscribe", topic=topic)
        # The first answer came before the change: the check is made again, and refuses.
        error = socket.expect("error")
        assert (error["code"], error["topic"]) == ("anonymous_not_allowed", topic)
        assert calls == [2]
        socket.nothing_more()


def test_a_subscribe_whose_check_raced_the_agents_removal_is_refused(
    make: Factory, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make.project()
    member = make.member(project)
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]

    async def removed() -> None:
        await hub.on_event(MembershipRevoked(project_id=project.id, user_id=member.id))

    _racing_access_check(monkeypatch, removed)
    with signed_in(make.client, member.token) as socket:
        topic = f"/{project.id}/requests"
        socket.send("subscribe", topic=topic)
        error = socket.expect("error")
        assert (error["code"], error["topic"]) == ("membership_revoked", topic)
        socket.nothing_more()
        visitor = make.visitor(project)
        visitor.send(visitor.new_request_id(), "hi")
        socket.nothing_more()  # not subscribed after all
