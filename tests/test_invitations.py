"""Invitations: accepted only with their single-use token, never by signing up with the address.

The attack this closes: an admin invites an address that has no account, and whoever signs up
first with that address joins with the invited role.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from frontdesk.clock import FakeClock
from frontdesk.storage.database import open_database
from frontdesk.storage.migrate import available
from tests.conftest import Factory, make_settings
from tests.live import live_server
from tests.security.conftest import assert_error

ACCEPT = "/auth/invitations/accept"


def _projects_of(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    memberships = client.get("/projects", headers=headers).json()
    return [(m["id_project"]["_id"], m["role"]) for m in memberships]


def _accept(client: TestClient, token: str, headers: dict[str, str]) -> Any:
    return client.post(ACCEPT, json={"token": token}, headers=headers)


def test_signing_up_with_the_invited_address_joins_nothing_the_token_joins_once(
    make: Factory,
) -> None:
    project = make.project()
    invited = make.invite(project, "newbie@example.com", "admin")
    squatter = make.agent(email="newbie@example.com")  # no mailbox proof: anyone can do this
    assert _projects_of(make.client, squatter.headers) == []
    team = make.client.get(f"/{project.id}/project_users", headers=project.owner.headers)
    assert "newbie@example.com" not in {m["id_user"]["email"] for m in team.json()}

    assert invited["pending"] is True and invited["invitation"]["status"] == "pending"
    assert invited["acceptUrl"].endswith("/dashboard/invitation#" + invited["token"])
    assert_error(_accept(make.client, "guessed-" + "a" * 40, squatter.headers), 404,
                 "invitation_invalid")

    accepted = _accept(make.client, invited["token"], squatter.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "admin"
    assert _projects_of(make.client, squatter.headers) == [(project.id, "admin")]
    assert_error(_accept(make.client, invited["token"], squatter.headers), 404,
                 "invitation_invalid")
    pending = make.client.get(f"/{project.id}/invitations", headers=project.owner.headers)
    assert pending.json() == []


def test_an_account_registered_before_the_invitation_still_needs_the_token(
    make: Factory,
) -> None:
    early = make.agent(email="victim@corp.example")
    project = make.project()
    invited = make.invite(project, "VICTIM@corp.example ")
    assert _projects_of(make.client, early.headers) == []
    assert invited["pending"] is True and invited["email"] == "victim@corp.example"
    assert _accept(make.client, invited["token"], early.headers).status_code == 200
    assert _projects_of(make.client, early.headers) == [(project.id, "agent")]
    again = make.client.post(f"/{project.id}/project_users/invite",
                             json={"email": early.email}, headers=project.owner.headers)
    assert_error(again, 409, "already_member")


def test_a_token_works_only_for_the_invited_address(make: Factory) -> None:
    project = make.project()
    invitee, stranger = make.agent(), make.agent()
    token = make.invite(project, invitee.email)["token"]
    assert_error(_accept(make.client, token, stranger.headers), 403, "invitation_wrong_account")
    assert _projects_of(make.client, stranger.headers) == []
    basic = base64.b64encode(f"{invitee.email}:{invitee.password}".encode()).decode()
    accepted = _accept(make.client, token, {"Authorization": "Basic " + basic})  # still unused
    assert accepted.status_code == 200
    assert _projects_of(make.client, invitee.headers) == [(accepted.json()["id_project"], "agent")]


def test_visitors_and_strangers_cannot_accept(make: Factory) -> None:
    project = make.project()
    invitee = make.agent()
    token = make.invite(project, invitee.email)["token"]
    assert_error(make.client.post(ACCEPT, json={"token": token}), 401, "unauthorized")
    visitor = make.visitor(project)
    assert_error(_accept(make.client, token, visitor.headers), 403, "agents_only")
    assert _accept(make.client, token, invitee.headers).status_code == 200


def test_an_expired_token_is_refused(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock, invitation_ttl=3600))
    project = make.project()
    invitee = make.agent()
    invited = make.invite(project, invitee.email)
    clock.advance(3601)
    assert_error(_accept(make.client, invited["token"], invitee.headers), 404,
                 "invitation_expired")
    assert _projects_of(make.client, invitee.headers) == []
    listed = make.client.get(f"/{project.id}/invitations", headers=project.owner.headers).json()
    assert [(i["email"], i["status"]) for i in listed] == [(invitee.email, "expired")]
    fresh = make.invite(project, invitee.email)  # inviting again issues a working link
    assert _accept(make.client, fresh["token"], invitee.headers).status_code == 200


def test_pending_invitations_are_listed_without_tokens_and_can_be_withdrawn(
    make: Factory,
) -> None:
    project = make.project()
    admin, agent = make.member(project, "admin"), make.member(project, "agent")
    invitee = make.agent()
    invited = make.invite(project, invitee.email, "admin")
    owners_invite = make.invite(project, "boss@example.com", "owner")

    listing = make.client.get(f"/{project.id}/invitations", headers=admin.headers)
    assert listing.status_code == 200
    assert [(i["email"], i["role"], i["status"]) for i in listing.json()] == [
        (invitee.email, "admin", "pending"), ("boss@example.com", "owner", "pending"),
    ]
    # Each invite answered with the invitation exactly as it was stored.
    assert listing.json() == [invited["invitation"], owners_invite["invitation"]]
    assert invited["token"] not in listing.text and "token" not in listing.json()[0]
    assert_error(make.client.get(f"/{project.id}/invitations", headers=agent.headers), 403,
                 "insufficient_role")

    url = f"/{project.id}/invitations/{invited['invitation']['_id']}"
    assert_error(make.client.delete(url, headers=agent.headers), 403, "insufficient_role")
    owners_url = f"/{project.id}/invitations/{owners_invite['invitation']['_id']}"
    assert_error(make.client.delete(owners_url, headers=admin.headers), 403, "insufficient_role")
    withdrawn = make.client.delete(url, headers=admin.headers)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["invitation"]["status"] == "withdrawn"
    assert_error(make.client.delete(url, headers=admin.headers), 404, "invitation_not_found")
    assert_error(_accept(make.client, invited["token"], invitee.headers), 404,
                 "invitation_invalid")
    assert _projects_of(make.client, invitee.headers) == []
    listing = make.client.get(f"/{project.id}/invitations", headers=admin.headers).json()
    assert [i["email"] for i in listing] == ["boss@example.com"]


def test_inviting_again_replaces_the_older_link(make: Factory) -> None:
    project = make.project()
    invitee = make.agent()
    first = make.invite(project, invitee.email, "admin")
    second = make.invite(project, invitee.email, "agent")
    assert first["token"] != second["token"]
    assert_error(_accept(make.client, first["token"], invitee.headers), 404,
                 "invitation_invalid")
    listed = make.client.get(f"/{project.id}/invitations", headers=project.owner.headers).json()
    assert [i["_id"] for i in listed] == [second["invitation"]["_id"]]
    accepted = _accept(make.client, second["token"], invitee.headers)
    assert accepted.status_code == 200 and accepted.json()["role"] == "agent"


def test_invite_accept_and_withdraw_are_audited(make: Factory) -> None:
    project = make.project()
    invitee = make.agent()
    accepted_one = make.invite(project, invitee.email, "admin")
    withdrawn_one = make.invite(project, "later@example.com")
    assert _accept(make.client, accepted_one["token"], invitee.headers).status_code == 200
    withdrawn_id = withdrawn_one["invitation"]["_id"]
    make.client.delete(f"/{project.id}/invitations/{withdrawn_id}",
                       headers=project.owner.headers)

    events = make.client.get(f"/{project.id}/audit", headers=project.owner.headers).json()
    rows = [(e["type"], e["actor"], e["subject"], e["details"].get("email"))
            for e in events["events"] if e["type"].startswith("invitation.")]
    accepted_id = accepted_one["invitation"]["_id"]
    assert rows == [
        ("invitation.withdrawn", project.owner.id, withdrawn_id, "later@example.com"),
        ("invitation.accepted", invitee.id, accepted_id, invitee.email),
        ("invitation.created", project.owner.id, withdrawn_id, "later@example.com"),
        ("invitation.created", project.owner.id, accepted_id, invitee.email),
    ]
    assert accepted_one["token"] not in str(events)


async def _agent_headers(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    """Sign an agent up and in against a live server; its Authorization header."""
    creds = {"email": email, "password": "long enough pw"}
    assert (await http.post("/auth/signup", json=creds)).status_code == 200
    signed = await http.post("/auth/signin", json=creds)
    return {"Authorization": signed.json()["token"]}


def test_concurrent_accepts_of_one_token_make_one_member(
    tmp_path: Path, database_url: str
) -> None:
    """Many simultaneous accepts over real HTTP: one membership, the others refused cleanly."""
    settings = make_settings(tmp_path, database_url)

    async def scenario(url: str) -> tuple[list[tuple[int, Any]], list[str]]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            owner = await _agent_headers(http, "owner@example.com")
            invitee = await _agent_headers(http, "invitee@example.com")
            pid = (await http.post("/projects", json={"name": "Race"}, headers=owner)).json()
            pid = pid["_id"]
            invited = await http.post(f"/{pid}/project_users/invite", headers=owner,
                                      json={"email": "invitee@example.com", "role": "admin"})
            token = invited.json()["token"]
            answers = await asyncio.gather(*(
                http.post(ACCEPT, json={"token": token}, headers=invitee) for _ in range(12)
            ))
            team = (await http.get(f"/{pid}/project_users", headers=owner)).json()
        outcomes = [(a.status_code, a.json().get("code")) for a in answers]
        return outcomes, [m["id_user"]["email"] for m in team]

    with live_server(settings) as server:
        outcomes, emails = asyncio.run(scenario(server.url))
    # The token is used once; a loser finds it used, or finds itself a member already.
    assert outcomes.count((200, None)) == 1, outcomes
    assert set(outcomes) <= {(200, None), (404, "invitation_invalid"), (409, "already_member")}
    assert emails.count("invitee@example.com") == 1


def test_simultaneous_invites_of_one_address_leave_one_working_link(
    tmp_path: Path, database_url: str
) -> None:
    """On PostgreSQL the losers of the race get 409 invitation_in_progress, never a 500."""
    settings = make_settings(tmp_path, database_url)

    async def scenario(url: str) -> tuple[list[Any], list[Any], int]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            owner = await _agent_headers(http, "owner@example.com")
            pid = (await http.post("/projects", json={"name": "Race"}, headers=owner)).json()
            pid = pid["_id"]
            answers = await asyncio.gather(*(
                http.post(f"/{pid}/project_users/invite", headers=owner,
                          json={"email": "twice@example.com"})
                for _ in range(8)
            ))
            listed = (await http.get(f"/{pid}/invitations", headers=owner)).json()
            invitee = await _agent_headers(http, "twice@example.com")
            tokens = [a.json()["token"] for a in answers if a.status_code == 200]
            accepts = [(await http.post(ACCEPT, json={"token": t}, headers=invitee)).status_code
                       for t in tokens]
        return [(a.status_code, a.json().get("code")) for a in answers], listed, accepts.count(200)

    with live_server(settings) as server:
        answers, listed, accepted = asyncio.run(scenario(server.url))
    assert set(answers) <= {(200, None), (409, "invitation_in_progress")}, answers
    assert len(listed) == 1 and accepted == 1


def test_invitations_pending_before_the_upgrade_need_a_new_link(database_url: str) -> None:
    """An invitation stored before tokens existed is listed as unsent and joins nobody."""
    before = [(name, module) for name, module in available()
              if name < "m0007_replace_invites_with_token_invitations"]

    async def scenario() -> list[dict[str, Any]]:
        db = await open_database(database_url)
        try:
            async with db.transaction() as tx:
                await tx.execute("CREATE TABLE schema_migrations "
                                 "(version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
                for name, module in before:
                    for statement in module.statements(tx.dialect):
                        await tx.execute(statement)
                    await tx.execute("INSERT INTO schema_migrations VALUES ($1, 0)", name)
                await tx.execute("INSERT INTO projects (id, name, created_at, updated_at)"
                                 " VALUES ('p0000000000000000000000a', 'Old', 0, 0)")
                await tx.execute(
                    "INSERT INTO invites (id, project_id, email, role, invited_by, created_at)"
                    " VALUES ('i0000000000000000000000a', 'p0000000000000000000000a',"
                    " 'old@example.com', 'admin', 'u0000000000000000000000a', 5)"
                )
            from frontdesk.storage.migrate import migrate

            await migrate(db)
            return await db.fetch_all("SELECT * FROM invitations")
        finally:
            await db.close()

    rows = asyncio.run(scenario())
    assert [(r["email"], r["role"], r["status"], r["token_hash"]) for r in rows] == [
        ("old@example.com", "admin", "pending", None)
    ]
