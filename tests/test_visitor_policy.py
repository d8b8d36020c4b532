"""A project's visitor policy: anonymous visitors, token age and exp, single-use tokens,
allowed widget origins. Every refusal has its code and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from frontdesk.clock import FakeClock
from tests.conftest import Factory, Project
from tests.identity_helpers import claims_for, sign
from tests.test_keys import assert_no_visitor, signin


def set_policy(make: Factory, project: Project, **settings: Any) -> None:
    r = make.client.put(f"/projects/{project.id}", json={"settings": settings},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text


def count_leads(make: Factory, project: Project) -> int:
    r = make.client.get(f"/{project.id}/leads", headers=project.owner.headers)
    return int(r.json()["count"])


def test_a_project_can_require_authenticated_visitors(make: Factory) -> None:
    project = make.project()
    early = make.visitor(project)  # signed in anonymously before the policy changed
    set_policy(make, project, allow_anonymous=False)
    refused = make.client.post("/auth/signinAnonymously", json={"id_project": project.id})
    assert (refused.status_code, refused.json()["code"]) == (403, "anonymous_not_allowed")
    message = early.send(early.new_request_id(), "hello?")
    assert (message.status_code, message.json()["code"]) == (403, "anonymous_not_allowed")
    refresh = make.client.post("/auth/signinWithCustomToken", headers=early.headers)
    assert refresh.json()["code"] == "anonymous_not_allowed"
    assert count_leads(make, project) == 0
    known = make.visitor(project, authenticated=True)
    assert known.send(known.new_request_id(), "hello").status_code == 200
    changed = make.client.get(f"/{project.id}/audit?type=policy.changed",
                              headers=project.owner.headers).json()["events"]
    assert [e["details"] for e in changed] == [{"allow_anonymous": False}]
    widget = make.client.get(f"/{project.id}/widgets").json()
    assert widget["project"]["allowAnonymous"] is False


def test_token_age_and_exp_requirements(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project()
    set_policy(make, project, require_exp=True, max_token_age=300)
    now = clock.now()
    cases = {
        "missing_exp": claims_for(project.id, now, exp=None, _id="c-1"),
        "token_too_old": claims_for(project.id, now, iat=int(now) - 400, _id="c-2"),
        "missing_iat": claims_for(project.id, now, iat=None, _id="c-3"),
    }
    for code, claims in cases.items():
        r = signin(make.client, sign(claims, project.secret, "HS256", project.kid))
        assert (r.status_code, r.json()["code"]) == (401, code)
        assert_no_visitor(make, project, claims["_id"])
    fresh = claims_for(project.id, now, iat=int(now) - 200, _id="c-4")
    assert signin(make.client, sign(fresh, project.secret, "HS256", project.kid)).status_code \
        == 200


def test_a_replayed_single_use_token_is_refused(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project()
    set_policy(make, project, single_use_tokens=True)
    claims = claims_for(project.id, clock.now(), jti=uuid.uuid4().hex, _id="c-once")
    token = sign(claims, project.secret, "HS256", project.kid)
    first = signin(make.client, token)
    assert first.status_code == 200
    replay = signin(make.client, token)
    assert (replay.status_code, replay.json()["code"]) == (401, "replayed_token")
    audit = make.client.get(f"/{project.id}/audit?subject=c-once",
                            headers=project.owner.headers).json()["events"]
    assert [(e["type"], e["code"]) for e in audit] == [
        ("signin.failed", "replayed_token"), ("signin.custom", None)]
    no_jti = sign(claims_for(project.id, clock.now(), _id="c-nojti"), project.secret, "HS256")
    assert signin(make.client, no_jti).json()["code"] == "missing_jti"
    assert_no_visitor(make, project, "c-nojti")
    # The session the first exchange gave keeps working: refreshing is not a replay.
    refreshed = make.client.post("/auth/signinWithCustomToken",
                                 headers={"Authorization": first.json()["token"]})
    assert refreshed.status_code == 200


def test_allowed_origins_are_checked_on_signin_and_visitor_calls(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    set_policy(make, project, allowed_origins=["https://shop.example.com"])
    good = {"Origin": "https://shop.example.com"}
    evil = {"Origin": "https://evil.example.net"}
    refused = make.client.post("/auth/signinAnonymously", json={"id_project": project.id},
                               headers=evil)
    assert (refused.status_code, refused.json()["code"]) == (403, "origin_not_allowed")
    assert make.client.post("/auth/signinAnonymously", json={"id_project": project.id},
                            headers=good).status_code == 200
    token = sign(claims_for(project.id, 0, exp=None, iat=None, _id="c-o"), project.secret,
                 "HS256", project.kid)
    r = make.client.post("/auth/signinWithCustomToken",
                         headers={"Authorization": "JWT " + token, **evil})
    assert r.json()["code"] == "origin_not_allowed"
    assert_no_visitor(make, project, "c-o")
    rid = visitor.new_request_id()
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hi"},
                         headers={**visitor.headers, **evil})
    assert (r.status_code, r.json()["code"]) == (403, "origin_not_allowed")
    assert count_leads(make, project) == 0
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hi"},
                         headers={**visitor.headers, **good})
    assert r.status_code == 200
    agent_call = make.client.get(f"/{project.id}/requests",
                                 headers={**project.owner.headers, **evil})
    assert agent_call.status_code == 200  # the dashboard is not the widget

    # The same policy holds on the WebSocket: a page elsewhere cannot follow the conversation.
    topic = f"/{project.id}/requests/{rid}/messages"
    for origin, expected in ((evil, "origin_not_allowed"), (good, None)):
        with make.client.websocket_connect("/ws", headers=origin) as socket:
            socket.send_json({"action": "authenticate", "payload": {"token": visitor.token}})
            assert socket.receive_json()["action"] == "authenticated"
            socket.send_json({"action": "subscribe", "payload": {"topic": topic}})
            answer = socket.receive_json()
            while answer["action"] not in ("subscribed", "error"):  # the snapshot comes first
                answer = socket.receive_json()
            if expected is None:
                assert answer["action"] == "subscribed", answer
            else:
                assert (answer["action"], answer["payload"]["code"]) == ("error", expected)


def test_policy_is_validated_and_for_admins(make: Factory) -> None:
    project = make.project()
    r = make.client.put(f"/projects/{project.id}", headers=project.owner.headers,
                        json={"settings": {"allowed_origins": ["javascript:alert(1)"]}})
    assert r.status_code == 422
    agent = make.member(project, "agent")
    r = make.client.put(f"/projects/{project.id}", headers=agent.headers,
                        json={"settings": {"allow_anonymous": False}})
    assert (r.status_code, r.json()["code"]) == (403, "insufficient_role")
    assert make.client.get(f"/projects/{project.id}", headers=project.owner.headers).json()[
        "settings"]["allow_anonymous"] is True
