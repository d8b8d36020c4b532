"""Agent accounts: sign-up, sign-in (JSON and HTTP Basic), sign-out."""

from __future__ import annotations

import base64
import statistics
import time

from tests.conftest import Factory


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
    r = make.client.post("/auth/signup", json={"email": "A@B.example", "password": "other one"})
    assert r.status_code == 409 and r.json()["code"] == "email_taken"


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


def test_failed_signin_costs_the_same_for_unknown_and_known_emails(make: Factory) -> None:
    """Both paths do one password-hash verification; compare median times loosely."""
    agent = make.agent()

    def timed(email: str) -> float:
        samples = []
        for _ in range(7):
            start = time.perf_counter()
            make.client.post("/auth/signin", json={"email": email, "password": "wrong pass"})
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    known, unknown = timed(agent.email), timed("ghost@nowhere.example")
    assert 0.5 < known / unknown < 2.0, (known, unknown)


def test_http_basic_works_for_agents(make: Factory) -> None:
    agent = make.agent()
    creds = base64.b64encode(f"{agent.email}:{agent.password}".encode()).decode()
    r = make.client.post(
        "/projects", json={"name": "Basic"}, headers={"Authorization": "Basic " + creds}
    )
    assert r.status_code == 200
    bad = base64.b64encode(f"{agent.email}:wrong".encode()).decode()
    r = make.client.get("/projects", headers={"Authorization": "Basic " + bad})
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
