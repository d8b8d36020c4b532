"""Who may call what: every endpoint of the route table against every kind of caller.

The expected answer comes from the route table itself (``allowed`` and ``min_role``), so the
table and the server's real behaviour cannot drift apart; each endpoint also needs an entry in
``CALLS`` saying how to call it, so a new endpoint fails here until someone decides how it is
exercised.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args

import pytest
from starlette.testclient import TestClient

from frontdesk.actions.continuity import link_hash
from frontdesk.api.routing import Endpoint
from frontdesk.api.table import all_endpoints
from frontdesk.auth.principals import ROLE_RANK
from frontdesk.realtime.topics import TopicKind
from frontdesk.storage import continuity_links
from tests.conftest import Agent, Factory, Project, Visitor, sign_customer_token
from tests.identity_helpers import ec_private_key, jwk_of
from tests.realtime.wsclient import connect
from tests.security.conftest import assert_error

PRINCIPALS = (
    "no token",
    "revoked token",
    "anonymous visitor",
    "authenticated visitor",
    "agent",
    "admin",
    "owner",
    "other project's owner",
)
VISITORS = ("anonymous visitor", "authenticated visitor")
AGENT_ROLES = ("agent", "admin", "owner")
# What agents note on every conversation of the world and on its contact: no answer to a
# visitor and no frame on a visitor's socket may carry it.
AGENT_NOTE = "agents-only-note-5f2c"


@dataclass
class World:
    """Project A with its team and visitors, project B with its owner, and a revoked session."""

    make: Factory
    a: Project
    b: Project
    agents: dict[str, Agent]
    visitors: dict[str, Visitor]
    revoked_headers: dict[str, str]
    bystander: Visitor
    headers_of: dict[str, dict[str, str]] = field(default_factory=dict)
    noted_leads: set[str] = field(default_factory=set)

    @property
    def client(self) -> TestClient:
        return self.make.client

    def own_visitor(self, who: str) -> Visitor:
        """The visitor a request is opened by: the caller when it is one, else a bystander."""
        return self.visitors.get(who, self.bystander)

    def fresh_request(self, who: str) -> str:
        visitor = self.own_visitor(who)
        rid = visitor.new_request_id()
        response = visitor.send(rid, "I need help")
        assert response.status_code == 200, response.text
        self.note_as_agent(visitor, rid)
        return rid

    def note_as_agent(self, visitor: Visitor, rid: str) -> None:
        """Agents tag and annotate the conversation, and the contact once."""
        owner = self.a.owner.headers
        noted = self.client.patch(f"/{self.a.id}/requests/{rid}", headers=owner, json={
            "tags": [AGENT_NOTE], "attributes": {"internalNote": AGENT_NOTE}})
        assert noted.status_code == 200, noted.text
        if visitor.id in self.noted_leads:
            return
        noted = self.client.put(f"/{self.a.id}/leads/{visitor.id}", headers=owner, json={
            "tags": [AGENT_NOTE], "attributes": {"internalNote": AGENT_NOTE},
            "phone": AGENT_NOTE})
        assert noted.status_code == 200, noted.text
        self.noted_leads.add(visitor.id)

    def fresh_member(self) -> dict[str, Any]:
        member = self.make.member(self.a, "agent")
        response = self.client.get(
            f"/{self.a.id}/project_users/users/{member.id}", headers=self.a.owner.headers
        )
        membership: dict[str, Any] = response.json()[0]
        return membership

    def fresh_department(self) -> str:
        response = self.client.post(
            f"/{self.a.id}/departments",
            json={"name": "Sales " + uuid.uuid4().hex[:6]},
            headers=self.a.owner.headers,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["_id"])

    def own_membership(self, who: str) -> str:
        agent = self.agents.get(who, self.a.owner)
        response = self.client.get(
            f"/{self.a.id}/project_users/users/{agent.id}", headers=self.a.owner.headers
        )
        return str(response.json()[0]["_id"])


def build_world(make: Factory) -> World:
    a, b = make.project(), make.project()
    # a.owner stays signed in to set things up; the callers are other members.
    agents = {role: make.member(a, role) for role in AGENT_ROLES}
    visitors = {
        "anonymous visitor": make.visitor(a),
        "authenticated visitor": make.visitor(a, authenticated=True),
    }
    revoked = make.member(a, "owner")
    assert make.client.post("/auth/logout", headers=revoked.headers).status_code == 200
    world = World(make, a, b, agents, visitors, revoked.headers, make.visitor(a))
    world.headers_of = {
        "no token": {},
        "revoked token": revoked.headers,
        **{who: v.headers for who, v in visitors.items()},
        **{who: agent.headers for who, agent in agents.items()},
        "other project's owner": b.owner.headers,
    }
    return world


@dataclass(frozen=True)
class Call:
    path: str
    json: Any = None
    headers: dict[str, str] | None = None  # replaces the caller's headers when set


Builder = Callable[[World, str], Call]


def _rid(w: World, who: str, suffix: str = "") -> Call:
    return Call(f"/{w.a.id}/requests/{w.fresh_request(who)}{suffix}")


def _custom_token(w: World, who: str) -> Call:
    assert w.a.secret is not None
    token = sign_customer_token(w.a.id, w.a.secret, _id="c-" + uuid.uuid4().hex[:8])
    return Call("/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token})


def _remove_participant(w: World, who: str) -> Call:
    rid = w.fresh_request(who)
    request = w.client.get(f"/{w.a.id}/requests/{rid}", headers=w.a.owner.headers).json()
    return Call(f"/{w.a.id}/requests/{rid}/participants/{request['participants'][0]}")


def _closed_request(w: World, who: str, suffix: str) -> Call:
    rid = w.fresh_request(who)
    closed = w.client.put(f"/{w.a.id}/requests/{rid}/close", headers=w.a.owner.headers)
    assert closed.status_code == 200, closed.text
    return Call(f"/{w.a.id}/requests/{rid}{suffix}")


def _lead(w: World, who: str) -> str:
    # A fresh contact each time: erasing one also signs its visitor out.
    visitor = w.visitors.get(who) or w.make.visitor(w.a)
    response = visitor.send(visitor.new_request_id(), "I need help")
    assert response.status_code == 200, response.text
    return visitor.id


def _fresh_key(w: World, who: str) -> Call:
    created = w.client.post(f"/{w.a.id}/keys", json={"kind": "shared"},
                            headers=w.a.owner.headers)
    assert created.status_code == 200, created.text
    return Call(f"/{w.a.id}/keys/{created.json()['kid']}")


def _fresh_session(w: World, who: str) -> Call:
    lead_id = _lead(w, "bystander")
    sessions = w.client.get(f"/{w.a.id}/leads/{lead_id}/sessions", headers=w.a.owner.headers)
    return Call(f"/{w.a.id}/leads/{lead_id}/sessions/{sessions.json()[0]['jti']}")


def _fresh_merge(w: World, who: str) -> Call:
    anonymous = w.make.visitor(w.a)
    assert anonymous.send(anonymous.new_request_id(), "before login").status_code == 200
    assert w.a.secret is not None
    token = sign_customer_token(w.a.id, w.a.secret, _id="c-" + uuid.uuid4().hex[:8])
    signed_in = w.client.post("/auth/signinWithCustomToken", headers={
        "Authorization": "JWT " + token, "X-Frontdesk-Anonymous-Token": anonymous.token})
    return Call(f"/{w.a.id}/merges/{signed_in.json()['merge']['_id']}/revert")


def _fresh_email() -> str:
    return f"x-{uuid.uuid4().hex[:8]}@example.com"


def _invitation_for_caller(w: World, who: str) -> Call:
    """A token for the caller's own address, into a project it is not yet in."""
    agent = w.agents.get(who) or (w.b.owner if who == "other project's owner" else None)
    project = w.make.project(w.a.owner, with_secret=False)
    email = agent.email if agent is not None else _fresh_email()
    return Call("/auth/invitations/accept", {"token": w.make.invite(project, email)["token"]})


def _fresh_link(w: World, who: str) -> Call:
    """A reply e-mail's link back to a fresh conversation of the bystander (public)."""
    rid = w.fresh_request("bystander")
    services = w.client.app.state.services  # type: ignore[attr-defined]
    token = uuid.uuid4().hex
    now = services.now_ms()

    async def insert() -> None:
        async with services.db.transaction() as tx:
            await continuity_links.insert_link(tx, {
                "token_hash": link_hash(token), "project_id": w.a.id,
                "visitor_id": w.bystander.id, "request_id": rid, "created_at": now,
                "expires_at": now + 60_000, "used_at": None,
            })

    w.client.portal.call(insert)  # type: ignore[union-attr]
    return Call("/auth/continue", {"token": token}, headers={})


CALLS: dict[str, Builder] = {
    "openapi_document": lambda w, who: Call("/openapi.json"),
    "health": lambda w, who: Call("/health"),
    "ready": lambda w, who: Call("/ready"),
    "signup": lambda w, who: Call(
        "/auth/signup",
        {"email": f"new-{uuid.uuid4().hex[:8]}@example.com", "password": "long enough pw"},
    ),
    "signin": lambda w, who: Call(
        "/auth/signin", {"email": w.a.owner.email, "password": w.a.owner.password}
    ),
    "signin_anonymously": lambda w, who: Call("/auth/signinAnonymously", {"id_project": w.a.id}),
    "signin_with_custom_token": _custom_token,
    "logout": lambda w, who: Call("/auth/logout"),
    "create_project": lambda w, who: Call("/projects", {"name": "Another"}),
    "list_projects": lambda w, who: Call("/projects"),
    "get_project": lambda w, who: Call(f"/projects/{w.a.id}"),
    "update_project": lambda w, who: Call(f"/projects/{w.a.id}", {"name": "Acme"}),
    "available_agents": lambda w, who: Call(f"/projects/{w.a.id}/users/availables"),
    "is_open": lambda w, who: Call(f"/projects/{w.a.id}/isopen"),
    "widget_config": lambda w, who: Call(f"/{w.a.id}/widgets"),
    "list_team": lambda w, who: Call(f"/{w.a.id}/project_users"),
    "get_project_user_by_user": lambda w, who: Call(
        f"/{w.a.id}/project_users/users/"
        + (w.visitors[who].id if who in VISITORS else w.a.owner.id)
    ),
    "update_own_membership": lambda w, who: Call(
        f"/{w.a.id}/project_users", {"user_available": True}
    ),
    "update_project_user": lambda w, who: Call(
        f"/{w.a.id}/project_users/{w.own_membership(who)}", {"user_available": True}
    ),
    "remove_project_user": lambda w, who: Call(
        f"/{w.a.id}/project_users/{w.fresh_member()['_id']}"
    ),
    "invite": lambda w, who: Call(f"/{w.a.id}/project_users/invite", {"email": _fresh_email()}),
    "list_invitations": lambda w, who: Call(f"/{w.a.id}/invitations"),
    "withdraw_invitation": lambda w, who: Call(
        f"/{w.a.id}/invitations/{w.make.invite(w.a, _fresh_email())['invitation']['_id']}"
    ),
    "accept_invitation": _invitation_for_caller,
    "generate_key": lambda w, who: Call(f"/{w.a.id}/keys/generate"),
    "list_keys": lambda w, who: Call(f"/{w.a.id}/keys"),
    "list_departments": lambda w, who: Call(f"/{w.a.id}/departments"),
    "list_all_departments": lambda w, who: Call(f"/{w.a.id}/departments/allstatus"),
    "create_department": lambda w, who: Call(f"/{w.a.id}/departments", {"name": "Support"}),
    "get_department": lambda w, who: Call(f"/{w.a.id}/departments/{w.fresh_department()}"),
    "update_department": lambda w, who: Call(
        f"/{w.a.id}/departments/{w.fresh_department()}", {"name": "Renamed"}
    ),
    "delete_department": lambda w, who: Call(f"/{w.a.id}/departments/{w.fresh_department()}"),
    "list_requests": lambda w, who: Call(f"/{w.a.id}/requests"),
    "list_my_requests": lambda w, who: Call(f"/{w.a.id}/requests/me"),
    "get_request": lambda w, who: _rid(w, who),
    "post_message": lambda w, who: Call(_rid(w, who, "/messages").path, {"text": "more"}),
    "list_messages": lambda w, who: _rid(w, who, "/messages"),
    "patch_request": lambda w, who: Call(_rid(w, who).path, {"tags": ["vip"]}),
    "patch_attributes": lambda w, who: Call(_rid(w, who, "/attributes").path, {"plan": "pro"}),
    "add_tags": lambda w, who: Call(_rid(w, who, "/tag").path, [{"tag": "vip"}]),
    "assign_request": lambda w, who: Call(_rid(w, who, "/assign").path, {}),
    "route_to_agent": lambda w, who: _rid(w, who, "/agent"),
    "route_to_department": lambda w, who: Call(_rid(w, who, "/departments").path, {}),
    "set_participants": lambda w, who: Call(
        _rid(w, who, "/participants").path, [w.a.owner.id]
    ),
    "add_participant": lambda w, who: Call(
        _rid(w, who, "/participants").path, {"member": w.agents["agent"].id}
    ),
    "remove_participant": _remove_participant,
    "close_request": lambda w, who: _rid(w, who, "/close"),
    "close_own_request": lambda w, who: _rid(w, who, "/closeg"),
    "reopen_request": lambda w, who: _closed_request(w, who, "/reopen"),
    "rate_request": lambda w, who: Call(
        _closed_request(w, who, "/rating").path, {"rating": 5, "rating_message": "great"}
    ),
    "list_leads": lambda w, who: Call(f"/{w.a.id}/leads"),
    "get_lead": lambda w, who: Call(f"/{w.a.id}/leads/{_lead(w, who)}"),
    "update_lead": lambda w, who: Call(f"/{w.a.id}/leads/{_lead(w, who)}", {"phone": "555"}),
    "erase_lead": lambda w, who: Call(f"/{w.a.id}/leads/{_lead(w, who)}"),
    "create_key": lambda w, who: Call(f"/{w.a.id}/keys", {"kind": "shared"}),
    "add_jwks": lambda w, who: Call(f"/{w.a.id}/keys/jwks", {"jwks": {"keys": [
        jwk_of(ec_private_key(), "k-" + uuid.uuid4().hex[:8])]}}),
    "retire_key": _fresh_key,
    "list_sessions": lambda w, who: Call(f"/{w.a.id}/leads/{_lead(w, who)}/sessions"),
    "revoke_all_sessions": lambda w, who: Call(f"/{w.a.id}/leads/{_lead(w, 'bystander')}/sessions"),
    "revoke_session": _fresh_session,
    "list_merges": lambda w, who: Call(f"/{w.a.id}/leads/{_lead(w, who)}/merges"),
    "revert_merge": _fresh_merge,
    "export_lead": lambda w, who: Call(f"/{w.a.id}/leads/{_lead(w, who)}/export"),
    "list_audit": lambda w, who: Call(f"/{w.a.id}/audit"),
    "availability_now": lambda w, who: Call(f"/projects/{w.a.id}/availability"),
    "send_email_code": lambda w, who: Call(
        f"/{w.a.id}/verifications/email", {"email": _fresh_email()}
    ),
    "confirm_email_code": lambda w, who: Call(
        f"/{w.a.id}/verifications/email/confirm", {"email": _fresh_email(), "code": "123456"}
    ),
    "request_verification": lambda w, who: Call(
        _rid(w, who, "/verification_requests").path, {"tier": "email_verified"}
    ),
    "continue_by_link": _fresh_link,
}
# Callers the route table admits whose call the action then refuses for what it is about,
# not for who calls: (status, code) instead of 200. This world sends no e-mail.
ADMITTED_BUT_REFUSED: dict[tuple[str, str], tuple[int, str]] = {
    ("send_email_code", "anonymous visitor"): (503, "email_unavailable"),
    ("send_email_code", "authenticated visitor"): (409, "already_authenticated"),
    ("confirm_email_code", "anonymous visitor"): (400, "no_pending_code"),
    ("confirm_email_code", "authenticated visitor"): (409, "already_authenticated"),
}


def expected_status(endpoint: Endpoint, who: str) -> int:
    """The answer the route table promises ``who`` on ``endpoint``."""
    if endpoint.auth == "none" or "public" in endpoint.allowed:
        return 200
    if who in ("no token", "revoked token"):
        return 401
    if who in VISITORS:
        return 200 if "visitor" in endpoint.allowed else 403
    if who == "other project's owner":
        if "{pid}" in endpoint.path:
            return 403
        return 200 if "agent" in endpoint.allowed else 403
    if "agent" not in endpoint.allowed:
        return 403
    if endpoint.min_role is not None and ROLE_RANK[who] < ROLE_RANK[endpoint.min_role]:
        return 403
    return 200


def _send(w: World, endpoint: Endpoint, who: str) -> Any:
    call = CALLS[endpoint.operation_id](w, who)
    headers = call.headers if call.headers is not None else w.headers_of[who]
    return w.client.request(endpoint.method, call.path, json=call.json, headers=headers)


def test_every_endpoint_has_a_call_in_the_matrix(client: TestClient) -> None:
    endpoints: list[Endpoint] = client.app.state.endpoints  # type: ignore[attr-defined]
    missing = sorted(e.operation_id for e in endpoints if e.operation_id not in CALLS)
    assert not missing, f"add these endpoints to CALLS in {__name__}: {missing}"
    stale = sorted(set(CALLS) - {e.operation_id for e in endpoints})
    assert not stale, f"these CALLS name no endpoint any more: {stale}"


def test_every_caller_gets_the_answer_the_route_table_promises(make: Factory) -> None:
    world = build_world(make)
    endpoints: list[Endpoint] = make.client.app.state.endpoints  # type: ignore[attr-defined]
    # Logging out revokes the caller's token, so it goes last for everybody.
    ordered = sorted(endpoints, key=lambda e: e.operation_id == "logout")
    mismatches = []
    for who in PRINCIPALS:
        for endpoint in ordered:
            if endpoint.operation_id not in CALLS:
                continue
            want = expected_status(endpoint, who)
            response = _send(world, endpoint, who)
            body = response.json()
            refused = ADMITTED_BUT_REFUSED.get((endpoint.operation_id, who))
            if want == 200 and refused is not None:
                if (response.status_code, body.get("code")) != refused:
                    mismatches.append(f"{endpoint.method} {endpoint.path} as {who}: got"
                                      f" {response.status_code} {body.get('code')}, want"
                                      f" {refused}")
            elif response.status_code != want:
                mismatches.append(
                    f"{endpoint.method} {endpoint.path} as {who}: got {response.status_code}"
                    f" {body.get('code', '')}, want {want}"
                )
            elif want != 200:
                assert body["success"] is False and body["code"] and body["message"], body
            elif who in VISITORS and AGENT_NOTE in response.text:
                mismatches.append(f"{endpoint.method} {endpoint.path} as {who}: an agent's"
                                  f" note reached the visitor: {response.text}")
    assert not mismatches, "\n".join(mismatches)


def test_a_refused_caller_is_refused_before_its_input_is_read(make: Factory) -> None:
    """The route table checks the caller before the body: whoever may not call an endpoint
    gets its 401/403 even for a body that is not JSON, and nothing is written."""
    world = build_world(make)
    endpoints: list[Endpoint] = make.client.app.state.endpoints  # type: ignore[attr-defined]
    mismatches = []
    checked = 0
    for endpoint in endpoints:
        if endpoint.body is None or endpoint.auth == "none":
            continue
        path = re.sub(r"{(\w+)}", lambda m: _PLACEHOLDERS[m.group(1)](world), endpoint.path)
        for who in PRINCIPALS:
            want = expected_status(endpoint, who)
            if want == 200:
                continue
            response = world.client.request(
                endpoint.method, path, content=b"{not json",
                headers={**world.headers_of[who], "Content-Type": "application/json"},
            )
            checked += 1
            if response.status_code != want:
                mismatches.append(f"{endpoint.method} {endpoint.path} as {who}: got "
                                  f"{response.status_code} {response.json().get('code')}")
    assert checked > 50
    assert not mismatches, "\n".join(mismatches)


def test_handlers_leave_the_caller_check_to_the_route_table() -> None:
    for endpoint in all_endpoints():
        source = inspect.getsource(endpoint.handler)
        assert not _INLINE_CHECK.search(source), f"{endpoint.operation_id} checks its caller"


_INLINE_CHECK = re.compile(r"\b(access_project|require_agent|require_principal|role_at_least)\(")
_PLACEHOLDERS: dict[str, Callable[[World], str]] = {
    "pid": lambda w: w.a.id,
    "rid": lambda w: f"support-group-{w.a.id}-{uuid.uuid4().hex}",
    "did": lambda w: "0" * 24,
    "puid": lambda w: "0" * 24,
    "lid": lambda w: "0" * 24,
}


# ---- visitor against visitor, project against project --------------------------------------

VISITOR_REQUEST_CALLS = [
    ("GET", "", None),
    ("POST", "/messages", {"text": "let me in"}),
    ("GET", "/messages", None),
    ("PATCH", "/attributes", {"plan": "stolen"}),
    ("PUT", "/closeg", None),
    ("PATCH", "/rating", {"rating": 1}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), VISITOR_REQUEST_CALLS)
def test_a_visitor_never_reads_or_writes_another_visitors_request(
    make: Factory, method: str, suffix: str, body: Any
) -> None:
    project = make.project()
    alice, mallory = make.visitor(project), make.visitor(project, authenticated=True)
    rid = alice.new_request_id()
    assert alice.send(rid, "my card number is 4111").status_code == 200
    before = make.client.get(f"/{project.id}/requests/{rid}", headers=alice.headers).json()

    response = make.client.request(
        method, f"/{project.id}/requests/{rid}{suffix}", json=body, headers=mallory.headers
    )
    assert_error(response, 403, "not_your_request")
    assert "4111" not in response.text
    after = make.client.get(f"/{project.id}/requests/{rid}", headers=alice.headers).json()
    assert after == before
    messages = make.client.get(f"/{project.id}/requests/{rid}/messages", headers=alice.headers)
    assert [m["text"] for m in messages.json()] == ["my card number is 4111"]


def test_a_visitors_own_list_holds_only_its_requests(make: Factory) -> None:
    project = make.project()
    alice, mallory = make.visitor(project), make.visitor(project)
    assert alice.send(alice.new_request_id(), "alice's").status_code == 200
    assert mallory.send(mallory.new_request_id(), "mallory's").status_code == 200
    mine = make.client.get(f"/{project.id}/requests/me", headers=mallory.headers).json()
    assert [r["first_text"] for r in mine["requests"]] == ["mallory's"]
    lookup = make.client.get(
        f"/{project.id}/project_users/users/{alice.id}", headers=mallory.headers
    )
    assert_error(lookup, 403, "not_yourself")


def test_an_agent_of_project_b_gets_nothing_of_project_a(make: Factory) -> None:
    a, b = make.project(), make.project()
    visitor = make.visitor(a)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "secret of A").status_code == 200
    stranger = b.owner.headers

    projects = make.client.get("/projects", headers=stranger).json()
    assert [p["id_project"]["_id"] for p in projects] == [b.id]
    for path in (
        f"/{a.id}/requests",
        f"/{a.id}/requests/{rid}",
        f"/{a.id}/requests/{rid}/messages",
        f"/{a.id}/leads",
        f"/{a.id}/leads/{visitor.id}",
        f"/{a.id}/project_users",
        f"/projects/{a.id}",
    ):
        response = make.client.get(path, headers=stranger)
        assert_error(response, 403, "not_a_member")
        assert "secret of A" not in response.text
    # A's request id under B's own path is simply not there.
    assert_error(make.client.get(f"/{b.id}/requests/{rid}", headers=stranger), 404,
                 "request_not_found")
    leads_of_b = make.client.get(f"/{b.id}/leads", headers=stranger).json()
    assert leads_of_b["count"] == 0


def test_a_visitor_of_project_a_gets_nothing_of_project_b(make: Factory) -> None:
    a, b = make.project(), make.project()
    visitor = make.visitor(a, authenticated=True)
    for path in (f"/{b.id}/requests/me", f"/{b.id}/departments"):
        assert_error(make.client.get(path, headers=visitor.headers), 403, "wrong_project")
    rid = f"support-group-{b.id}-{uuid.uuid4().hex}"
    response = make.client.post(
        f"/{b.id}/requests/{rid}/messages", json={"text": "hi"}, headers=visitor.headers
    )
    assert_error(response, 403, "wrong_project")


# ---- what a visitor sees of its own conversation and of itself ------------------------------

# The visitor's view, field by field (docs/security.md, "Agents' notes reaching the visitor").
VISITOR_REQUEST_KEYS = {
    "_id", "id", "request_id", "id_project", "requester", "requester_id", "lead", "first_text",
    "last_text", "status", "participants", "participantsAgents", "participantsBots", "hasBot",
    "department", "departmentid", "attributes", "isAuthenticated", "channel", "sourcePage",
    "language", "userAgent", "rating", "rating_message", "closed_at", "closed_by", "snapshot",
    "createdAt", "updatedAt", "tier", "heldForTier", "verificationRequest",
}
VISITOR_LEAD_KEYS = {
    "_id", "id", "lead_id", "id_project", "fullname", "email", "phone", "attributes",
    "isAuthenticated", "provenance", "createdAt", "updatedAt",
}


def assert_visitor_view(request: dict[str, Any], own_attributes: set[str]) -> None:
    assert set(request) == VISITOR_REQUEST_KEYS
    assert set(request["attributes"]) == own_attributes | {"senderAuthInfo"}
    lead = request["lead"]
    assert set(lead) == VISITOR_LEAD_KEYS
    assert set(lead["attributes"]) == {"senderAuthInfo"}
    assert lead["phone"] is None and "phone" not in lead["provenance"]  # an agent typed it
    assert request["snapshot"] == {"requester": request["requester"], "lead": lead}
    assert AGENT_NOTE not in json.dumps(request)


@pytest.mark.parametrize("who", VISITORS)
def test_a_visitor_sees_only_what_is_meant_for_it(make: Factory, who: str) -> None:
    project = make.project()
    visitor = make.visitor(project, authenticated=who == "authenticated visitor")
    owner = project.owner.headers
    rid = visitor.new_request_id()
    path = f"/{project.id}/requests/{rid}"
    assert visitor.send(rid, "hello", attributes={"cart": "3 items"}).status_code == 200
    mine = make.client.patch(f"{path}/attributes", json={"page": "pricing"},
                             headers=visitor.headers)
    assert mine.json()["attributes"]["page"] == "pricing"
    # Agents tag, annotate, overwrite the visitor's "cart" and edit the contact.
    assert make.client.patch(path, headers=owner, json={
        "tags": [AGENT_NOTE], "attributes": {"internalNote": AGENT_NOTE, "cart": AGENT_NOTE},
    }).status_code == 200
    assert make.client.put(f"/{project.id}/leads/{visitor.id}", headers=owner, json={
        "tags": [AGENT_NOTE], "attributes": {"internalNote": AGENT_NOTE}, "phone": AGENT_NOTE,
    }).status_code == 200

    full = make.client.get(path, headers=owner).json()  # the agents see all of it
    assert full["tags"] == [AGENT_NOTE] and full["lead"]["phone"] == AGENT_NOTE
    assert full["attributes"]["internalNote"] == full["attributes"]["cart"] == AGENT_NOTE

    seen = make.client.get(path, headers=visitor.headers).json()
    assert_visitor_view(seen, {"page"})
    assert seen["attributes"]["page"] == "pricing"
    assert seen["lead"]["lead_id"] == visitor.id and seen["requester_id"] == visitor.id
    listed = make.client.get(f"/{project.id}/requests/me", headers=visitor.headers).json()
    assert listed["requests"] == [seen]
    sent = make.client.post(f"{path}/messages", json={"text": "more"}, headers=visitor.headers)
    assert_visitor_view(sent.json()["request"], {"page"})

    # On its socket: the snapshot and every change agents make afterwards, in the same view.
    with connect(make.client, visitor.token) as widget, \
            connect(make.client, project.owner.token) as dashboard:
        widget.expect("authenticated")
        dashboard.expect("authenticated")
        snapshot = widget.subscribe(path)["objects"]
        assert len(snapshot) == 1
        assert_visitor_view(snapshot[0], {"page"})
        dashboard.subscribe(path)
        assert make.client.patch(path, headers=owner, json={
            "tags": [AGENT_NOTE, "again"], "attributes": {"next": AGENT_NOTE},
        }).status_code == 200
        live = widget.expect("publish")
        assert live["topic"] == path
        assert_visitor_view(live["message"][0], {"page"})
        agents_frame = dashboard.expect("publish")
        assert agents_frame["message"][0]["tags"] == [AGENT_NOTE, "again"]


# ---- realtime: every caller against every topic kind ----------------------------------------

TOPICS: dict[str, Builder] = {
    "requests": lambda w, who: Call(f"/{w.a.id}/requests"),
    "request": lambda w, who: _rid(w, who),
    "messages": lambda w, who: _rid(w, who, "/messages"),
    "project_user": lambda w, who: Call(f"/{w.a.id}/project_users/{w.own_membership(who)}"),
}


def expected_subscription(kind: str, who: str) -> str:
    """``subscribed``, or the code of the error frame that refuses the subscribe."""
    if who == "no token":
        return "authentication_required"
    if who == "revoked token":
        return "session_revoked"
    if who == "other project's owner":
        return "not_a_member"
    if who in VISITORS and kind in ("requests", "project_user"):
        return "agents_only"
    return "subscribed"  # agents of every role; a visitor on its own conversation


def _subscribe(w: World, topic: str, who: str) -> str:
    token = w.headers_of[who].get("Authorization")
    with connect(w.client, token) as socket:
        socket.send("subscribe", topic=topic)
        while True:
            frame = socket.frame()
            if frame["action"] == "subscribed":
                return "subscribed"
            if frame["action"] == "error":
                return str(frame["payload"]["code"])
            assert frame["action"] in ("authenticated", "publish"), frame
            if who in VISITORS and AGENT_NOTE in json.dumps(frame):
                return f"an agent's note reached the visitor: {frame}"


def test_every_topic_kind_is_in_the_realtime_matrix() -> None:
    assert set(TOPICS) == set(get_args(TopicKind))


def test_every_caller_subscribes_or_is_refused_as_promised(make: Factory) -> None:
    world = build_world(make)
    mismatches = []
    for who in PRINCIPALS:
        for kind, build in TOPICS.items():
            topic = build(world, who).path
            got, want = _subscribe(world, topic, who), expected_subscription(kind, who)
            if got != want:
                mismatches.append(f"{kind} {topic} as {who}: got {got}, want {want}")
    assert not mismatches, "\n".join(mismatches)
