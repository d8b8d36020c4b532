"""Agent accounts: sign-up, sign-in (JSON and HTTP Basic), sign-out."""

from __future__ import annotations

import statistics
import time
from typing import Any

from tests.conftest import Factory, basic


def test_signup_never_returns_the_password(make: Factory) -> None:
    r = make.client.post(
        "/auth/signup",
        json={"email": "Ada@Example.com", "password": "long enough", "firstname": "Ada"},
    )
    assert r.status_code == 200
    user = r.json()["user"]
    assert user["email"] == "ada@example.com"
    assert "password" not in r.text and "hash" not in r.text


def test_signup_validation_and_duplicates(make: Factory) -> None:
    bad = [
        {"email": "no-at-sign", "password": "long enough"},
        {"email": "a@b.example", "password": "short"},
        {"password": "long enough"},
    ]
    for body in bad:
        r = make.client.post("/auth/signup", json=body)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", body
        assert r.json()["details"]
    make.client.post("/auth/signup", json={"email": "a@b.example", "password": "long enough"})
    # A duplicate is answered like a new account (sign-up tells nobody who has one) and
    # changes nothing: the first password still signs in, the second does not.
    r = make.client.post("/auth/signup", json={"email": "A@B.example", "password": "other one"})
    assert r.status_code == 200 and r.json()["user"]["email"] == "a@b.example"
    first = {"email": "a@b.example", "password": "long enough"}
    assert make.client.post("/auth/signin", json=first).status_code == 200
    second = {"email": "a@b.example", "password": "other one"}
    assert make.client.post("/auth/signin", json=second).status_code == 401


def test_signin_returns_jwt_and_profile(make: Factory) -> None:
    agent = make.agent()
    assert agent.token.startswith("JWT ")
    assert agent.user["email"] == agent.email
    r = make.client.get("/projects", headers=agent.headers)
    assert r.status_code == 200 and r.json() == []
    r = make.client.get("/projects", headers={"Authorization": "Bearer " + agent.token[4:]})
    assert r.status_code == 200
    r = make.client.get("/projects", headers={"Authorization": "jwt " + agent.token[4:]})
    assert r.status_code == 200


def test_signin_failures_look_the_same(make: Factory) -> None:
    agent = make.agent()
    wrong = make.client.post("/auth/signin", json={"email": agent.email, "password": "nope nope"})
    unknown = make.client.post("/auth/signin", json={"email": "ghost@x.example", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_failed_signin_does_the_same_hash_work_for_unknown_and_known_emails(
    make: Factory, verifications: list[str]
) -> None:
    """An unknown email costs one Argon2 verification with the same parameters as a known one,
    so response time does not reveal which emails have accounts."""
    agent = make.agent()
    before = len(verifications)
    for email in (agent.email, "ghost@nowhere.example"):
        r = make.client.post("/auth/signin", json={"email": email, "password": "wrong pass"})
        assert r.status_code == 401
    known, unknown = verifications[before:]
    assert known != unknown
    assert known.rsplit("$", 2)[0] == unknown.rsplit("$", 2)[0]  # same algorithm and costs


def test_http_basic_works_for_agents(make: Factory) -> None:
    agent = make.agent()
    r = make.client.post(
        "/projects", json={"name": "Basic"}, headers=basic(agent.email, agent.password)
    )
    assert r.status_code == 200
    r = make.client.get("/projects", headers=basic(agent.email, "wrong"))
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    r = make.client.get("/projects", headers={"Authorization": "Basic !!!"})
    assert r.status_code == 401 and r.json()["code"] == "malformed_token"


def test_logout_revokes_agent_session(make: Factory) -> None:
    agent = make.agent()
    assert make.client.post("/auth/logout", headers=agent.headers).json()["revoked"] is True
    r = make.client.get("/projects", headers=agent.headers)
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    assert make.client.post("/auth/logout").status_code == 401


def test_garbage_tokens(make: Factory) -> None:
    for header in ("JWT", "JWT garbage", "JWT a.b.c", "Token abc", "JWT " + "a" * 10000):
        r = make.client.get("/projects", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.json()["success"] is False and r.json()["code"]


def test_signup_does_not_tell_whether_an_address_has_an_account(make: Factory) -> None:
    existing = make.agent(email="known@example.com", password="the real one 1")
    fresh = make.client.post("/auth/signup", json={
        "email": "unknown@example.com", "password": "another pw 1", "firstname": "Eve"})
    taken = make.client.post("/auth/signup", json={
        "email": "Known@example.com", "password": "another pw 1", "firstname": "Eve"})
    assert fresh.status_code == taken.status_code == 200
    fresh_user, taken_user = fresh.json()["user"], taken.json()["user"]
    assert set(fresh.json()) == set(taken.json()) and set(fresh_user) == set(taken_user)
    assert taken_user["email"] == "known@example.com" and taken_user["firstname"] == "Eve"
    assert taken_user["_id"] != existing.id
    # Nothing changed: the old password still signs in, the new one does not.
    old = make.client.post("/auth/signin",
                           json={"email": existing.email, "password": "the real one 1"})
    assert old.status_code == 200 and old.json()["user"]["firstname"] == "Ada"
    new = make.client.post("/auth/signin",
                           json={"email": existing.email, "password": "another pw 1"})
    assert new.status_code == 401 and new.json()["code"] == "bad_credentials"


def test_signup_of_a_taken_address_takes_as_long_as_a_new_one(app_factory: Any) -> None:
    """With the production password-hash cost, both answers take about the same time, so
    timing does not tell either. Medians of alternating calls, a generous factor of two."""
    client = app_factory(password_hash_memory_kib=65536, password_hash_time_cost=3)
    body = {"password": "long enough pw", "firstname": "Eve"}
    assert client.post("/auth/signup", json={**body, "email": "taken@example.com"}).status_code \
        == 200
    fresh, taken = [], []
    for n in range(5):
        for email, times in ((f"new{n}@example.com", fresh), ("taken@example.com", taken)):
            started = time.perf_counter()
            assert client.post("/auth/signup", json={**body, "email": email}).status_code == 200
            times.append(time.perf_counter() - started)
    ratio = statistics.median(taken) / statistics.median(fresh)
    assert 0.5 < ratio < 2, (fresh, taken)
